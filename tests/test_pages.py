"""The page parsers (sync.pages) against real pages of the series.

Whole-record tests read the copies in tests/fixtures/pages/; the corpus-wide tests read
every version in tests/fixtures/corpus/.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from sync.core.errors import PageError
from sync.pages import (
    MAX_PAGE_BYTES,
    decode_page,
    fold,
    normalize_code,
    parse_talks_page,
    parse_webinar_page,
    video_id_from_url,
)
from sync.pages.identity import attach_abstracts, same_talk
from sync.core.records import AbstractRecord, Person, TalkRecord

from .conftest import CORPUS

FIXTURES = Path(__file__).parent / "fixtures" / "pages"
NEWEST = "2026-08-11_dd744744_webinar.md"
NEWEST_TALKS = "2026-08-11_dd744744_webinar_talks.md"

def fixture_text(name: str) -> str:
    return decode_page((FIXTURES / name).read_bytes(), name)


def corpus_files(kind: str) -> list[str]:
    return sorted(p.name for p in CORPUS.glob(f"*_{kind}.md"))


def by_code(talks: list[TalkRecord]) -> dict[str, TalkRecord]:
    return {talk.code: talk for talk in talks}


@pytest.fixture(scope="module")
def newest():
    return parse_webinar_page(fixture_text(NEWEST), NEWEST)


@pytest.fixture(scope="module")
def newest_abstracts():
    return parse_talks_page(fixture_text(NEWEST_TALKS), NEWEST_TALKS)


# ---------------------------------------------------------------------------
# Every version of both pages
# ---------------------------------------------------------------------------

# Computed apart from the parser: what a coded line plainly says.
RAW_CODE_LINE = re.compile(r"^\* (S\d{2}E\d{2}) - ")
RAW_YOUTUBE_ID = re.compile(r"(?:youtu\.be/|youtube\.com/watch\?v=)([A-Za-z0-9_-]{11})")


def test_corpus_has_every_version():
    assert len(corpus_files("webinar")) == 79
    assert len(corpus_files("webinar_talks")) == 14


@pytest.mark.parametrize("name", corpus_files("webinar"))
def test_every_webinar_version_parses_its_coded_lines(name):
    text = decode_page((CORPUS / name).read_bytes(), name)
    page = parse_webinar_page(text, name)

    raw_lines = [line for line in text.splitlines() if RAW_CODE_LINE.match(line)]
    assert [talk.code for talk in page.listed] == [RAW_CODE_LINE.match(line)[1] for line in raw_lines]
    for talk, line in zip(page.listed, raw_lines):
        assert talk.status == "listed"
        assert talk.speakers and all(person.name for person in talk.speakers), line
        assert talk.date and talk.date_text, line
        assert talk.title and "**" not in talk.title, line
        linked = RAW_YOUTUBE_ID.search(line)
        assert talk.page_video_id == (linked[1] if linked else None), line
        assert (talk.season, talk.episode) == (int(talk.code[1:3]), int(talk.code[4:6]))
    for talk in page.upcoming:
        assert talk.status == "upcoming" and talk.code is None and talk.speakers


@pytest.mark.parametrize("name", corpus_files("webinar_talks"))
def test_every_talks_version_parses_its_sections(name):
    text = decode_page((CORPUS / name).read_bytes(), name)
    abstracts = parse_talks_page(text, name)

    headings = [line for line in text.splitlines() if line.startswith("### ")]
    video_lines = [line for line in text.splitlines() if line.startswith("Video: [S")]
    assert len(abstracts) == len(headings)
    assert len([a for a in abstracts if a.code]) == len(video_lines)
    for abstract in abstracts:
        assert abstract.speakers and abstract.affiliation and abstract.title and abstract.abstract
        assert (abstract.code is None) == (abstract.video_id is None)


@pytest.mark.parametrize("name", corpus_files("webinar_talks"))
def test_talks_page_is_never_taken_for_the_webinar_page(name):
    with pytest.raises(PageError, match=f"^{re.escape(name)} is not the webinar page: "):
        parse_webinar_page(decode_page((CORPUS / name).read_bytes(), name), name)


# ---------------------------------------------------------------------------
# Whole records, four eras
# ---------------------------------------------------------------------------


def test_early_2023_listed_lines_and_next_talk_bullets():
    page = parse_webinar_page(fixture_text("2023-03-16_ada8a876_webinar.md"))

    assert page.listed == [
        TalkRecord(
            status="listed",
            speakers=[Person("Roxana Daneshjou", "Dr.", "https://profiles.stanford.edu/roxana-daneshjou")],
            code="S01E01", season=1, episode=1,
            affiliation="Stanford University School of Medicine, Stanford, CA, USA",
            date="2023-02-27", date_text="27th Feb 2023",
            title="Challenges with equipoise and fairness in AI/ML datasets in dermatology",
            page_video_id="zLxYUtToXGg",  # a trailing [Video](https://youtu.be/..)
        ),
        TalkRecord(
            status="listed",
            speakers=[Person("David Wen", "Dr.")],  # [Dr. David Wen]() : an empty link is just a name
            code="S01E02", season=1, episode=2,
            affiliation="Oxford University Clinical Academic Graduate School, University of Oxford, Oxford, UK",
            date="2023-02-27", date_text="27th Feb 2023",
            title="Characteristics of open access skin cancer image datasets: implications for equitable digital health",
            page_video_id=None,  # "Video will be available after 5th July 2023."
        ),
        TalkRecord(
            status="listed",
            speakers=[Person("Colin Fleming", "Prof.")],
            code="S01E03", season=1, episode=3,
            affiliation="Ninewells Hospital, Dundee, UK",
            date="2023-02-27", date_text="27th Feb 2023",
            title="Characteristics of skin lesions datasets",
            page_video_id="MlBxlL5WUuU",
        ),
    ]
    upcoming = dict(status="upcoming", date="2023-06-05", date_text="5th June 2023 at 4pm CEST",
                    topic="Datasets for medical image challenges")
    assert page.upcoming == [
        TalkRecord(speakers=[Person("Amber Simpson", "Prof.", "http://simpsonlab.org")],
                   affiliation="Queen's University, Canada", **upcoming),
        TalkRecord(speakers=[Person("Esther E. Bron", "Prof.", "https://estherbron.com")],
                   affiliation="Erasmus MC - University Medical Center Rotterdam, the Netherlands", **upcoming),
        # "**[Prof. Spyridon Bakas](..)** & **[Dr. Ujjwal Baid](..)** - ..": one talk, two speakers
        TalkRecord(speakers=[Person("Spyridon Bakas", "Prof.", "https://www.med.upenn.edu/cbica/sbakas/"),
                             Person("Ujjwal Baid", "Dr.", "https://www.med.upenn.edu/cbica/ujjwalbaid.html")],
                   affiliation="University of Pennsylvania, USA", **upcoming),
    ]
    assert page.playlist_ids == ["PL_BSB_M_evSmfj9zSvqYVgTcJFtVdJc3y"]


SCHROUFF_ABSTRACT = (
    "One potential driver of algorithmic unfairness, shortcut learning, arises when ML models base "
    "predictions on improper correlations in the training data. Diagnosing this phenomenon is difficult "
    "as sensitive attributes may be causally linked with disease. Using multitask learning, we propose a "
    "method to directly test for the presence of shortcut learning in clinical ML systems and demonstrate "
    "its application to clinical tasks in radiology and dermatology. Finally, our approach reveals "
    "instances when shortcutting is not responsible for unfairness, highlighting the need for a holistic "
    "approach to fairness mitigation in medical AI."
)
SCHROUFF_BIO = (
    "Jessica is a research scientist at Google DeepMind, working on responsible AI through a causal "
    "perspective. Previously, she was at Google Research where she investigated responsible machine "
    "learning for healthcare. Before joining Alphabet in 2019, she was a Marie Curie post-doctoral fellow "
    "at University College London (UK) and Stanford University (USA), developing machine learning "
    "techniques for neuroscience discovery and clinical predictions. Throughout her career, Jessica's "
    "interests have lied not only in the technical advancement of machine learning methods, but also in "
    "critical aspects of their deployment such as their credibility, fairness, robustness or "
    "interpretability. She is also involved in DEI initiatives, such as Women in Machine Learning (WiML) "
    "and founded the Women in Neuroscience Repository."
)


def test_september_2023_heading_per_talk_with_bulleted_fields():
    page = parse_webinar_page(fixture_text("2023-09-29_dcaa63a0_webinar.md"))

    assert [talk.code for talk in page.listed] == [
        "S01E01", "S01E02", "S01E03", "S02E01", "S02E02", "S02E03", "S03E01", "S03E02"]
    assert page.listed[3] == TalkRecord(
        status="listed",
        speakers=[Person("Amber Simpson", "Prof.", "http://simpsonlab.org")],
        code="S02E01", season=2, episode=1,
        affiliation="Queen's University, Canada",
        date="2023-06-05", date_text="5th June 2023",
        title="The medical segmentation decathlon",
        page_video_id="2sbWrXO6gAc",  # watch?v=2sbWrXO6gAc&list=PL_BSB..&index=3
    )
    assert [[p.name for p in talk.speakers] for talk in page.upcoming] == [
        ["Jessica Schrouff"], ["Enzo Ferrante"], ["Rhys Compton", "Lily Zhang"]]
    assert page.upcoming[0] == TalkRecord(
        status="upcoming",
        speakers=[Person("Jessica Schrouff", "Dr.")],
        affiliation="Google DeepMind, UK",
        date="2023-12-04", date_text="4 December 2023 at 4pm CET",
        title="Detecting shortcut learning for fair medical AI",
        abstract=SCHROUFF_ABSTRACT,
        bio=SCHROUFF_BIO,
        topic="Shortcuts and bias",
    )
    compton_zhang = page.upcoming[2]
    assert compton_zhang.bio is None  # "* **Bio**: TBA" is a placeholder, not a bio
    assert compton_zhang.abstract.startswith("In machine learning, incorporating more data")
    # The watch?v=..&list= links of talk lines do not count as the series' playlists.
    assert page.playlist_ids == ["PL_BSB_M_evSmfj9zSvqYVgTcJFtVdJc3y"]


def test_mid_2024_names_linking_videos_and_upcoming_tba():
    page = parse_webinar_page(fixture_text("2024-07-02_6d5ce722_webinar.md"))

    assert len(page.listed) == 14
    assert page.upcoming == []  # "Next webinar: TBA", no speakers
    assert by_code(page.listed)["S04E02"] == TalkRecord(
        status="listed",
        # One link on both names: both are speakers, the link is the recording.
        speakers=[Person("Rhys Compton"), Person("Lily Zhang")],
        code="S04E02", season=4, episode=2,
        affiliation="New York University, USA",
        date="2023-12-04", date_text="4th December 2023",
        title="When more is less: Incorporating additional datasets can hurt performance by introducing spurious correlations",
        page_video_id="hVM2PNsXPhM",
    )
    assert by_code(page.listed)["S05E03"] == TalkRecord(
        status="listed",
        speakers=[Person("Alceu Bissoto"), Person("Sandra Avila", "Dr.")],
        code="S05E03", season=5, episode=3,
        affiliation="UNICAMP, Brazil",
        date="2024-03-25", date_text="25th March 2024",
        title="The Performance of Transferability Metrics does not Translate to Medical Tasks",
        page_video_id="1gbeopshZiE",
    )


TIARNA_LEE_ABSTRACT = (
    "Artificial intelligence (AI) methods are being used increasingly for the automated segmentation of "
    "cine cardiac magnetic resonance (CMR) imaging. However, these methods have been shown to be subject "
    "to race bias; i.e. they exhibit different levels of performance for different races depending on the "
    "(im)balance of the data used to train the AI model. We trained AI models to perform race "
    "classification on cine CMR images and/or segmentations from White and Black subjects and found that "
    "the classification accuracy for images was higher than for segmentations. Interpretability methods "
    "showed that the models were primarily looking at non-heart regions. A number of possible confounders "
    "for the bias in segmentation model performance were identified for Black subjects but none for White "
    "subjects. Distributional differences between annotated CMR data of White and Black races, which can "
    "lead to bias in trained AI segmentation models, are predominantly image-based. Most of the "
    "differences occur in areas outside the heart, such as subcutaneous fat."
)


def test_2025_speaker_links_followed_by_title_and_abstract_paragraphs():
    page = parse_webinar_page(fixture_text("2025-04-14_3f04584f_webinar.md"))

    assert [talk.speakers[0].name for talk in page.upcoming] == [
        "Tiarna Lee", "Dewinda J. Rumala", "Amelia Jiménez-Sánchez"]
    assert page.upcoming[0] == TalkRecord(
        status="upcoming",
        speakers=[Person("Tiarna Lee", None, "https://www.kcl.ac.uk/people/tiarna-lee")],
        affiliation="King's College London, UK",
        date="2025-05-12", date_text="12th May 2025 at 10am CEST",
        title="Racial bias in cardiac imaging",
        abstract=TIARNA_LEE_ABSTRACT,
        topic="Investigating medical datasets",
    )
    assert by_code(page.listed)["S06E03"].speakers == [Person("Malih Alikhani"), Person("Resmi Ramachandranpillai")]


LAURA_QUINN_ABSTRACT = (
    "Interobserver variability between readers is an important consideration in diagnostic imaging, with "
    "direct implications for patient care. Using data from a breast cancer screening programme, this talk "
    "will compare commonly used variability measures and demonstrate how different approaches can lead to "
    "different conclusions about agreement between readers. The session will discuss the strengths and "
    "limitations of these measures, together with practical considerations for selecting, interpreting, "
    "and reporting interobserver variability in diagnostic imaging research."
)
LAURA_QUINN_BIO = (
    "Laura Quinn is a Research Fellow in Medical Statistics at the University of Birmingham. Her research "
    "focuses on diagnostic test evaluation, particularly interobserver variability in diagnostic imaging, "
    "which was the focus of her PhD. She also conducts research on methods for evaluating healthcare "
    "performance over time and is currently establishing a research programme on the evaluation and "
    "monitoring of AI in diagnostic imaging."
)


def test_newest_page_counts_and_upcoming(newest):
    assert len(newest.listed) == 26
    assert len({talk.code for talk in newest.listed}) == 26
    assert [[p.name for p in talk.speakers] for talk in newest.upcoming] == [
        ["Leo Joskowicz"], ["Laura Quinn"], ["Kumar Abhishek"]]
    assert newest.upcoming[1] == TalkRecord(
        status="upcoming",
        speakers=[Person("Laura Quinn")],
        affiliation="University of Birmingham, UK",
        date=None, date_text="TBA",  # "Date: **TBA**"
        title="Interobserver Variability in Breast Screening: A Comparison of Measures",
        abstract=LAURA_QUINN_ABSTRACT,
        bio=LAURA_QUINN_BIO,
        topic=None,  # "Next webinar: TBA"
    )
    assert newest.playlist_ids == ["PLWCikipQZ8HILJaadZnNVyC9cLpg7A2dy"]


def test_newest_page_whole_records(newest):
    talks = by_code(newest.listed)
    assert talks["S05E01"] == TalkRecord(
        status="listed",
        speakers=[Person("Hubert Dariusz Zając"), Person("Natalia-Rozalia Avlona")],
        code="S05E01", season=5, episode=1,
        affiliation="University of Copenhagen, Denmark",
        date="2024-03-25", date_text="25th March 2024",
        title="Ground Truth Or Dare: Factors Affecting The Creation Of Medical Datasets For Training AI",
        page_video_id="cQGKHaYj4Ak",
    )
    assert talks["S09E01"] == TalkRecord(
        status="listed",
        speakers=[Person("Evangelia Christodoulou")],
        code="S09E01", season=9, episode=1,
        affiliation="German Cancer Research Center (DKFZ), Germany",
        date="2026-03-02", date_text="2nd March 2026",
        title="From Metrics to Meaning: Making Evaluation Matter in Medical Imaging AI",
        page_video_id="AUYmTQrZsRA",
    )
    assert talks["S07E03"] == TalkRecord(
        status="listed",
        speakers=[Person("Dewinda J. Rumala")],
        code="S07E03", season=7, episode=3,
        affiliation="UNIVERSA AI, Switzerland",
        date="2025-05-12", date_text="12th May 2025",
        title="Seeing the Same Brain Twice: Data Leakage and Identity Bias in Brain MRI Analysis",
        page_video_id="qTSoF8wCbNA",
    )
    assert talks["S01E01"] == TalkRecord(
        status="listed",
        speakers=[Person("Roxana Daneshjou", "Dr.")],  # the name links the video, not a profile
        code="S01E01", season=1, episode=1,
        affiliation="Stanford University School of Medicine, Stanford, CA, USA",
        date="2023-02-27", date_text="27th Feb 2023",
        title="Challenges with equipoise and fairness in AI/ML datasets in dermatology",
        page_video_id="hDKuw28ATe4",
    )


def test_moved_notice_is_the_webinar_page_with_no_talks():
    page = parse_webinar_page(fixture_text("2025-11-18_9a21755d_webinar.md"))
    assert (page.listed, page.upcoming, page.playlist_ids) == ([], [], [])


def test_early_coming_talks_forms():
    text = (CORPUS / "2023-01-05_64932cf3_webinar.md").read_text(encoding="utf-8")
    # "**27th Feb 2023 at 4pm CET: Characteristics of skin lesions**" then
    # "Speakers: **[Dr. Roxana Daneshjou](..), Prof. Colin Fleming, Dr. David Wen**."
    event = dict(status="upcoming", date="2023-02-27", date_text="27th Feb 2023 at 4pm CET",
                 topic="Characteristics of skin lesions")
    assert parse_webinar_page(text).upcoming == [
        TalkRecord(speakers=[Person("Roxana Daneshjou", "Dr.", "https://profiles.stanford.edu/roxana-daneshjou")], **event),
        TalkRecord(speakers=[Person("Colin Fleming", "Prof.")], **event),
        TalkRecord(speakers=[Person("David Wen", "Dr.")], **event),
    ]
    # "### Coming talks: TBA" / "* Feb / March 2023": nothing announced yet.
    assert parse_webinar_page((CORPUS / "2022-12-12_1785e440_webinar.md").read_text(encoding="utf-8")).upcoming == []


def test_html_comments_are_not_read():
    text = (CORPUS / "2025-07-09_18e72a88_webinar.md").read_text(encoding="utf-8")
    assert "<!-- Title:**TBA**" in text
    page = parse_webinar_page(text)
    assert [(t.speakers[0].name, t.title, t.abstract) for t in page.upcoming] == [
        ("Yuki Arase", None, None), ("Mamunur Rahaman", None, None), ("David Restrepo", None, None)]
    assert page.upcoming[0].date_text == "20 October 2025 at 9:30am CET"
    assert page.upcoming[0].date == "2025-10-20"


def test_duplicate_codes_on_a_page_are_kept_as_written():
    page = parse_webinar_page((CORPUS / "2025-11-18_85843fba_webinar.md").read_text(encoding="utf-8"))
    assert [t.code for t in page.listed].count("S07E01") == 2


# ---------------------------------------------------------------------------
# The talks page and attaching its abstracts
# ---------------------------------------------------------------------------


def test_talks_page_sections(newest_abstracts):
    assert len(newest_abstracts) == 30
    sections = {abstract.code: abstract for abstract in newest_abstracts if abstract.code}
    assert len(sections) == 26
    assert sections["S03E02"].video_id == "58njMnrzfX8"  # labelled [S0302]
    assert sections["S08E03"].affiliation == (
        "School of Computing, Institute of Science Tokyo (aka Tokyo Institute of Technology), Japan")
    assert sections["S07E01"].speakers == [Person("Amelia Jiménez-Sánchez", "Dr.")]  # zero-width space gone
    assert sections["S03E01"].speakers == [Person("Thijs Kooi", "Dr.")]  # NBSP before "(" gone
    assert sections["S01E03"].speakers == [Person("Colin Fleming", "Prof.")]  # "###  Prof. .."
    assert sections["S06E01"].speakers == [Person("Hava Chaptoukaev"), Person("Maria A. Zuluaga", "Dr.")]
    assert sections["S01E02"].title == (
        "Characteristics of open access skin cancer image datasets: implications for equitable digital health")
    assert sections["S01E02"].abstract.count("\n\n") == 2  # three paragraphs
    # Bulleted bios of two speakers: both kept, one paragraph each.
    assert sections["S04E02"].bio.split("\n\n")[0].startswith("Rhys Compton holds")
    assert sections["S04E02"].bio.split("\n\n")[1].startswith("Lily Zhang is a PhD candidate")
    assert sections["S05E01"].bio.split("\n\n")[1].startswith("Natalia-Rozalia Avlona is a lawyer")
    # "Bio:" with a continuation line, then a second "Bio:".
    malihe = sections["S06E03"].bio.split("\n\n")
    assert malihe[0].startswith("Malihe Alikhani is") and "\nDr. Alikhani’s interdisciplinary" in malihe[0]
    assert malihe[1].startswith("Resmi Ramachandranpillai is")


def test_talks_page_whole_record(newest_abstracts):
    damgaard = [a for a in newest_abstracts if a.speakers[0].name == "Cathrine Damgaard"]
    assert damgaard == [AbstractRecord(
        speakers=[Person("Cathrine Damgaard"), Person("Trine Naja Eriksen")],
        affiliation="IT University of Copenhagen, Denmark",
        title="Annotation Label Reliability and Pathology Detection in Publicly Available Chest X-ray Datasets",
        abstract=(
            "Deep learning models are becoming more prevalent for pathology detection in medical image analysis, "
            "as more large-scale medical image datasets are published. The models are, however, prone to make "
            "errors which a human specialist never would, even though they have been shown to obtain a better "
            "overall performance. This could be caused by the models learning unintended shortcuts, or that the "
            "datasets used for training the models often have labels obtained from medical reports associated "
            "with the images and not the actual images, making the labels less reliable for an image "
            "classification task. We explore pathology label reliability by comparing image review annotations "
            "from different sources on the same images, as well as tube label reliability by providing 1,011 "
            "non-expert annotations on chest X-ray images, indicating the presence of four different tube types."
        ),
        bio=(
            "Cathrine Damgaard & Trine Naja Eriksen have recently finished their masters at ITU, congrats to both "
            "of you! They have been doing great work during their research project and master thesis with us. "
            "We’re glad to have them at the webinar sharing their experience collecting chest drain annotations "
            "on X-ray images."
        ),
        code=None,
        video_id=None,
    )]


def test_attach_abstracts_on_the_newest_pages(newest, newest_abstracts):
    talks = parse_webinar_page(fixture_text(NEWEST)).listed + parse_webinar_page(fixture_text(NEWEST)).upcoming
    unattached = attach_abstracts(talks, newest_abstracts)

    assert [[p.name for p in a.speakers] for a in unattached] == [["Cathrine Damgaard", "Trine Naja Eriksen"]]
    listed = [t for t in talks if t.status == "listed"]
    assert all(t.abstract for t in listed) and len(listed) == 26
    assert all(t.abstract and t.bio for t in talks if t.status == "upcoming")
    pacheco = by_code(listed)["S03E02"]  # the talks page labels it [S0302]
    assert pacheco == TalkRecord(
        status="listed",
        speakers=[Person("Andre Pacheco", "Dr.")],
        code="S03E02", season=3, episode=2,
        affiliation="Federal University of Espírito Santo, Brazil",
        date="2023-09-18", date_text="18th September 2023",
        title="PAD-UFES-20: the challenges and opportunities in creating a skin lesion dataset",
        page_video_id="58njMnrzfX8",
        talks_page_video_id="58njMnrzfX8",
        abstract=(
            "The PAD-UFES-20 is a public skin lesion dataset composed of clinical images collected from smartphone "
            "devices and a set of patient clinical data containing several features. Because of its unique "
            "characteristics, the dataset has been growing in popularity and supporting research across the "
            "globe. This presentation explores the nuances of creating this dataset, shedding the light on the "
            "challenges faced and its promising potential for future advancements."
        ),
        bio=(
            "Dr. Andre Pacheco is a researcher in which his interests lie in the intersection of the fields of "
            "Artificial Intelligence, Computer Vision and Health Informatics. He holds a Ph.D in Computer Science "
            "specialized in medical imaging analysis, in particular, skin cancer detection. Working in the field "
            "since 2016, his work has led to multiple publications and contributions. Andre has experience in "
            "industry as AI Research Specialist at Samsung Electronics, mainly working on the development of new "
            "health/well-being algorithms for smartwatches. Currently, he is an Assistant Professor at Federal "
            "University of Espirito Santo, where he recently founded the Laboratory of AI for Health."
        ),
    )
    assert by_code(listed)["S06E03"].abstract.startswith("The world around us is both multimodal")
    assert by_code(listed)["S07E03"].talks_page_video_id == "qTSoF8wCbNA"


def test_attach_without_codes_matches_speakers_fuzzily_and_titles(newest_abstracts):
    talks = parse_webinar_page(fixture_text(NEWEST)).listed
    section = next(a for a in newest_abstracts if a.code == "S06E03")
    uncoded = AbstractRecord(**{**vars(section), "code": None})  # "Malihe" here, "Malih" on the page

    assert attach_abstracts(talks, [uncoded]) == []
    assert by_code(talks)["S06E03"].abstract == section.abstract


def test_attach_is_precise():
    talk = TalkRecord(status="listed", code="S01E01", speakers=[Person("Roxana Daneshjou")], title="A talk",
                      abstract="kept", bio=None)
    wrong_code = AbstractRecord(speakers=[Person("Someone Else")], title="Another talk", code="S01E01", abstract="x")
    same_speaker_other_title = AbstractRecord(speakers=[Person("Roxana Daneshjou")], title="Unrelated", abstract="y")
    assert attach_abstracts([talk], [wrong_code, same_speaker_other_title]) == [wrong_code, same_speaker_other_title]
    assert talk.abstract == "kept"

    right = AbstractRecord(speakers=[Person("Roxana Daneshjou")], title="Other", code="S01E01",
                           abstract="new", bio="bio", video_id="zLxYUtToXGg")
    twice = AbstractRecord(speakers=[Person("Roxana Daneshjou")], title="A talk", code="S01E01", abstract="z")
    assert attach_abstracts([talk], [right, twice]) == [twice]  # one abstract per talk
    assert (talk.abstract, talk.bio, talk.talks_page_video_id) == ("kept", "bio", "zLxYUtToXGg")


def test_same_talk_reconciles_announced_with_listed(newest):
    september = parse_webinar_page(fixture_text("2023-09-29_dcaa63a0_webinar.md")).upcoming
    listed = by_code(newest.listed)
    schrouff, ferrante, compton_zhang = september
    assert same_talk(schrouff, listed["S04E01"])
    assert same_talk(compton_zhang, listed["S04E02"])
    assert not same_talk(schrouff, listed["S04E03"])
    assert not same_talk(ferrante, listed["S04E01"])
    # The title changed between announcement and listing; the speaker and the date did not.
    kooi = TalkRecord(status="upcoming", speakers=[Person("Thijs Kooi", "Dr.")], date="2023-09-18",
                      title="Did You Get What You Paid For? Rethinking Annotation Cost of Deep Learning Based "
                            "Computer Aided Detection systems")
    assert same_talk(kooi, listed["S03E01"])
    assert not same_talk(TalkRecord(status="upcoming", speakers=kooi.speakers, title=kooi.title), listed["S03E01"])


# ---------------------------------------------------------------------------
# Not the page
# ---------------------------------------------------------------------------

README = """# talks

Archive of the webinar series "Datasets through the Looking-Glass": pages + YouTube -> SQLite.

## Install

    pip install -e .

## Usage

* `talks sync` reads the pages.
"""


@pytest.mark.parametrize("text, reason", [
    ("", "it is empty"),
    ("   \n\n", "it is empty"),
    (README, "no 'Datasets through the Looking-Glass' heading"),
    ("# Notes\n\n- a\n- b\n\n### Jane Doe (Somewhere)\nTitle: x\n", "talks page"),
    ("# Datasets through the Looking-Glass\n\nWelcome to the series.\n", "neither"),
])
def test_webinar_parser_rejects_what_is_not_the_webinar_page(text, reason):
    with pytest.raises(PageError) as caught:
        parse_webinar_page(text, "the-input.md")
    message = str(caught.value)
    assert message.startswith("the-input.md is not the webinar page: ") and reason in message
    assert "\n" not in message


def test_webinar_parser_rejects_the_talks_page():
    with pytest.raises(PageError, match="^talks.md is not the webinar page: it is the talks page"):
        parse_webinar_page(fixture_text(NEWEST_TALKS), "talks.md")


def test_webinar_page_without_front_matter_is_recognised():
    body = fixture_text(NEWEST).split("---\n", 2)[2]
    assert len(parse_webinar_page(body).listed) == 26


@pytest.mark.parametrize("text", ["", README, "# Hello\n\nJust some *markdown*.\n"])
def test_talks_parser_rejects_what_is_not_the_talks_page(text):
    with pytest.raises(PageError, match="^x.md is not the talks page: "):
        parse_talks_page(text, "x.md")


def test_talks_parser_rejects_the_webinar_page():
    with pytest.raises(PageError, match="it is the webinar page"):
        parse_talks_page(fixture_text(NEWEST), "webinar.md")


@pytest.mark.parametrize("data, words", [
    (b"", "is empty"),
    (b"  \n\t\n", "is empty"),
    (b"\xef\xbb\xbf", "is empty"),
    (b"%PDF-1.4\x00\x01\x02binary", "binary"),
    (b"caf\xe9 au lait", "not valid UTF-8"),
    (b"x" * (MAX_PAGE_BYTES + 1), "too large"),
])
def test_decode_page_rejects_unusable_bytes(data, words):
    with pytest.raises(PageError) as caught:
        decode_page(data, "https://example.org/webinar.md")
    message = str(caught.value)
    assert "https://example.org/webinar.md" in message and words in message and "\n" not in message


def test_error_messages_never_carry_an_api_key():
    with pytest.raises(PageError) as caught:
        decode_page(b"", "https://example.org/page.md?key=secret-value")
    assert "secret-value" not in str(caught.value)


def test_decode_page_strips_the_bom():
    assert decode_page("\ufeff# Datasets through the L👀king-Glass\n".encode(), "p") == "# Datasets through the L👀king-Glass\n"


# ---------------------------------------------------------------------------
# Small helpers
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("url, expected", [
    ("https://youtu.be/q-DBwWZejMY?si=LvIP9OOLhCQHl1Cw", "q-DBwWZejMY"),
    ("https://youtu.be/_ZzRJFdK2pI", "_ZzRJFdK2pI"),
    ("https://www.youtube.com/watch?v=qTSoF8wCbNA&list=PLWCikipQZ8HILJaadZnNVyC9cLpg7A2dy", "qTSoF8wCbNA"),
    ("https://www.youtube.com/watch?feature=shared&v=hDKuw28ATe4", "hDKuw28ATe4"),
    ("https://youtube.com/watch?v=hDKuw28ATe4#t=30", "hDKuw28ATe4"),
    ("https://m.youtube.com/watch?v=hDKuw28ATe4", "hDKuw28ATe4"),
    ("https://music.youtube.com/watch?v=hDKuw28ATe4&si=abc", "hDKuw28ATe4"),
    ("https://www.youtube.com/embed/hDKuw28ATe4?start=10", "hDKuw28ATe4"),
    ("https://www.youtube-nocookie.com/embed/hDKuw28ATe4", "hDKuw28ATe4"),
    ("https://www.youtube.com/live/hDKuw28ATe4?si=x", "hDKuw28ATe4"),
    ("https://www.youtube.com/shorts/hDKuw28ATe4", "hDKuw28ATe4"),
    ("www.youtube.com/watch?v=hDKuw28ATe4", "hDKuw28ATe4"),
    ("youtu.be/hDKuw28ATe4", "hDKuw28ATe4"),
    ("https://www.youtube.com/playlist?list=PL_BSB_M_evSmfj9zSvqYVgTcJFtVdJc3y", None),
    ("https://www.youtube.com/embed/videoseries?list=PL_BSB_M_evSmfj9zSvqYVgTcJFtVdJc3y", None),
    ("https://www.youtube.com/watch?v=tooshort", None),
    ("https://profiles.stanford.edu/roxana-daneshjou", None),
    ("https://vimeo.com/123456789", None),
    ("https://notyoutube.com/watch?v=hDKuw28ATe4", None),
    ("", None),
])
def test_video_id_from_url(url, expected):
    assert video_id_from_url(url) == expected


@pytest.mark.parametrize("label, expected", [
    ("S03E02", "S03E02"), ("S0302", "S03E02"), ("s3e2", "S03E02"), ("[S03E02]", "S03E02"),
    (" S10E01 ", "S10E01"), ("S3", None), ("E02", None), ("Video", None), ("S00E01", None),
])
def test_normalize_code(label, expected):
    assert normalize_code(label) == expected


def test_fold():
    assert fold("Hubert Dariusz Zając") == "hubert dariusz zajac"
    assert fold("Amelia Jiménez-Sánchez\u200b") == "amelia jimenez-sanchez"
    assert fold("Søren  Łukasz Æbelø ß") == "soren lukasz aebelo ss"
    assert fold("King’s College") == "king's college"
    assert fold("") == fold(None) == ""


def test_playlists_are_playlist_links_in_order_without_repeats():
    text = (
        "---\npermalink: /webinar/\n---\n# Datasets through the L👀king-Glass\n"
        "[a](https://www.youtube.com/playlist?list=PLfirst&jct=x) [b](https://youtube.com/playlist?list=PLsecond&si=y)\n"
        "[c](https://www.youtube.com/playlist?list=PLfirst)\n"
        "* S01E01 - **[A B](https://www.youtube.com/watch?v=hDKuw28ATe4&list=PLwatched)** (X). 1st May 2023. **T**\n"
    )
    assert parse_webinar_page(text).playlist_ids == ["PLfirst", "PLsecond"]


def test_playlist_links_on_every_youtube_host_and_no_other():
    text = (
        "---\npermalink: /webinar/\n---\n# Datasets through the L👀king-Glass\n* S01E01 - **A** (X). 1st May 2023.\n"
        "m.youtube.com/playlist?list=PLmobile www.youtube-nocookie.com/embed/videoseries?list=PLembed\n"
        "<https://youtube.com/playlist/?list=PLslash> (notyoutube.com/playlist?list=PLevil)"
        " [x](https://evil-youtube.com/playlist?list=PLevil2)\n"
    )
    assert parse_webinar_page(text).playlist_ids == ["PLmobile", "PLembed", "PLslash"]
