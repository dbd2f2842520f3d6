"""The archive's own pages, as Datasette routes: home, talk, speaker, search, desk.

Each view reads with data.py and renders a template from ../templates; an unknown talk or
speaker is a 404 (templates/404.html offers search).
"""
from __future__ import annotations

import asyncio
import re
from urllib.parse import urlencode

from datasette.utils import tilde_decode
from datasette.utils.asgi import NotFound, Response

from sync.pages.parse import normalize_code

from . import crawl, data, seasons
from .pagedb import PageDatabase
from .related import related_talks
from .render import canonical_video_id, duration, excerpt, highlight, markdown, path_part, safe_url, \
    speaker_path, talk_path, thumbnail_url, timestamp, watch_url
from .seasons import season_number
from .story import talk_story

__all__ = ["FEED_LINKS", "ROUTES"]

DATABASE = "talks"  # metadata.yml's name for the file; the first database otherwise
FEED_LINKS = [
    {"type": "application/atom+xml", "title": "New recordings", "href": "/talks/new_recordings.atom"},
    {"type": "text/calendar", "title": "Upcoming talks", "href": "/talks/upcoming_talks.ics"},
]
MAX_Q = 200
# The archive's own pages run only the site's script files: even a value that escaped
# escaping could not run. Posters from i.ytimg.com; the player frame from youtube-nocookie.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' https://i.ytimg.com; "
    "frame-src https://www.youtube-nocookie.com; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'self'"
)


def _db(datasette) -> PageDatabase:
    try:
        database = datasette.get_database(DATABASE)
    except KeyError:
        database = datasette.get_database()
    return PageDatabase(datasette, database)  # threads of their own: anonymous SQL cannot starve them


def _q(request) -> str:
    return (request.args.get("q") or "").strip()[:MAX_Q]


async def _page(datasette, request, template: str, context: dict, status: int = 200) -> Response:
    helpers = {
        "talk_path": talk_path, "speaker_path": speaker_path, "markdown": markdown, "timestamp": timestamp,
        "watch_url": watch_url,
        "safe_url": safe_url, "highlight": highlight, "video_id": canonical_video_id, "path_part": path_part,
        "feed_links": FEED_LINKS, "duration": duration,
    }
    html = await datasette.render_template(template, {**helpers, **context}, request=request)
    return Response.html(html, status=status, headers={"Content-Security-Policy": CONTENT_SECURITY_POLICY})


async def home_view(datasette, request):
    context = await data.home(_db(datasette))
    return await _page(datasette, request, "archive_home.html", {**context, "metadata": datasette.metadata() or {}})


async def _talk_at(db, request, suffix: str = ""):
    """The talk `request`'s key names, or a 302 to its one shareable URL (+ `suffix`).

    Any spelling of a code the CLI reads (s5e1, S0501, [S05E01]) finds the talk; Datasette
    hands over `[` as %5B, or as ~5B after its own redirect of a %-encoded path. The URL
    is the code as written (302: a code can change, S08E01 was printed S07E01)."""
    key = request.url_vars["key"]
    code = None if key.isdigit() else normalize_code(tilde_decode(key))
    t = await data.talk(db, code or key)
    if t is None:
        raise NotFound(f"No talk {key!r} in the archive.")
    if t["code"] and key != t["code"]:
        query = f"?{request.query_string}" if request.query_string else ""
        return t, Response.redirect(talk_path(t) + suffix + query)
    return t, None


async def talk_view(datasette, request):
    db = _db(datasette)
    t, redirect = await _talk_at(db, request)
    if redirect:
        return redirect
    try:
        start = min(max(0, int(float(request.args.get("t", "0")[:20].rstrip("s")))), 86_400)
    except (ValueError, OverflowError):
        start = 0
    q = _q(request)
    video = canonical_video_id(t["video_id"])
    linked = canonical_video_id(t["page_video_id"]) or canonical_video_id(t["talks_page_video_id"])
    loop = asyncio.get_running_loop()  # bounded work (render.MARKDOWN_LIMIT), still off the event loop
    context = {
        "talk": t, "q": q, "start": start,
        "abstract_html": await loop.run_in_executor(None, markdown, t["abstract"]),
        "bio_html": await loop.run_in_executor(None, markdown, t["bio"]),
        "page_url": f"{request.scheme}://{request.host}{talk_path(t)}",
        "video": video if t["watchable"] else None,
        "linked_video": linked,
        "thumbnail": thumbnail_url(video),
        "segments": await data.transcript(db, video, q),
        "has_transcript": bool(await data.transcript(db, video)) if q else None,
        "description": excerpt(t["abstract"]) or f"A talk of the series, {t['date'] or 'date to be announced'}.",
        "changes_url": "/talks/changes?" + urlencode({"table_name": "talks", "row_key": str(t["id"])}),
        "related": await related_talks(db, t["id"]),
        "story": talk_story(t["history"]),
    }
    if context["has_transcript"] is None:
        context["has_transcript"] = bool(context["segments"])
    return await _page(datasette, request, "archive_talk.html", context)


async def transcript_download_view(datasette, request):
    """/talk/CODE/transcript.vtt|srt|txt: the talk's captions to take away (sync/transcripts/export.py)."""
    from sync.transcripts.export import FORMATS, WRITERS, Cue, file_stem

    key, ext = request.url_vars["key"], request.url_vars["ext"]
    db = _db(datasette)
    t, redirect = await _talk_at(db, request, f"/transcript.{ext}")
    if redirect:
        return redirect
    rows = await data.transcript_cues(db, canonical_video_id(t["video_id"]))
    if not rows:
        raise NotFound(f"No transcript of {t['code'] or key!r} in the archive.")
    body = WRITERS[ext]([Cue(r["start_seconds"], r["end_seconds"], r["text"]) for r in rows])
    return Response(body, content_type=f"{FORMATS[ext]}; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="{file_stem(t["code"], t["id"])}.{ext}"',
        "X-Content-Type-Options": "nosniff"})


async def speaker_view(datasette, request):
    key = request.url_vars["key"]
    match = re.match(r"(\d{1,12})(?:-[\w-]*)?\Z", key)
    s = await data.speaker(_db(datasette), int(match.group(1))) if match else None
    if s is None:
        raise NotFound(f"No speaker {key!r} in the archive.")
    return await _page(datasette, request, "archive_speaker.html", {"speaker": s})


async def search_view(datasette, request):
    q = _q(request)
    season = season_number((request.args.get("season") or "")[:10])
    year = (request.args.get("year") or "")[:4]
    results = await data.search(_db(datasette), q, season=season, year=year if re.fullmatch(r"\d{4}", year) else None)

    def narrowed(**change) -> str:  # this search with a filter set or taken off
        # A season named in the words (`S05 fairness`) is taken off by taking the word out.
        words = results["words"] if results["season_from_query"] and "season" in change else q
        season = None if results["season_from_query"] and "season" not in change else results["season"]
        args = {"q": words, "season": season, "year": results["year"], **change}
        return "/search?" + urlencode({k: v for k, v in args.items() if v not in (None, "")})

    return await _page(datasette, request, "archive_search.html", {"q": q, "narrowed": narrowed, **results})


async def season_view(datasette, request):
    key = request.url_vars["key"]
    number = season_number(key)
    found = await seasons.season(_db(datasette), number) if number is not None else None
    if found is None:
        raise NotFound(f"No season {key!r} in the archive.")
    if key != str(number):  # one URL per season: /season/5
        return Response.redirect(f"/season/{number}", status=301)
    return await _page(datasette, request, "archive_season.html", {"season": found})


async def desk_view(datasette, request):
    return await _page(datasette, request, "archive_desk.html", await data.desk(_db(datasette)))


async def search_all_redirect(request):
    # One search: datasette-search-all's page listed videos' stand-in descriptions before talks.
    q = _q(request)
    return Response.redirect("/search" + (f"?{urlencode({'q': q})}" if q else ""))


async def robots_view(datasette, request):
    return crawl.robots(datasette, request)


async def sitemap_view(datasette, request):
    return await crawl.sitemap(datasette, request, _db(datasette))


ROUTES = [
    (r"^/$", home_view),
    (r"^/talk/(?P<key>[^/]{1,40})$", talk_view),
    # ~2E: Datasette's own redirect of a %-encoded path (/talk/%5BS03E01%5D/...) tilde-encodes the dot
    (r"^/talk/(?P<key>[^/]{1,40})/transcript(?:\.|~2E)(?P<ext>vtt|srt|txt)$", transcript_download_view),
    (r"^/speaker/(?P<key>[^/]{1,80})$", speaker_view),
    (r"^/season/(?P<key>[^/]{1,20})$", season_view),
    (r"^/search$", search_view),
    (r"^/desk$", desk_view),
    (r"^/-/search$", search_all_redirect),
    (r"^/robots\.txt$", robots_view),
    (r"^/sitemap\.xml$", sitemap_view),
]
