"""What search engines read: /robots.txt and /sitemap.xml (every talk, speaker and season page).

URLs are absolute, built from the request (Datasette's absolute_url, which honours
force_https_urls behind a proxy); the XML is written by ElementTree, which escapes.
"""
from __future__ import annotations

import xml.etree.ElementTree as ET

from datasette.utils.asgi import Response

from .render import speaker_path, talk_path

__all__ = ["MAX_URLS", "robots", "sitemap", "sitemap_paths"]

MAX_URLS = 50_000  # the sitemap protocol's cap for one file
SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
# Pages without an end or of no use to a search engine: the raw database (every table, facet
# and SQL query is a URL), search results, the organizers' desk, Datasette's own pages.
DISALLOW = ("/talks", "/search", "/desk", "/-/")


def robots(datasette, request) -> Response:
    lines = ["User-agent: *", *(f"Disallow: {path}" for path in DISALLOW),
             f"Sitemap: {datasette.absolute_url(request, '/sitemap.xml')}"]
    return Response.text("\n".join(lines) + "\n")


async def sitemap_paths(db) -> list[str]:
    """/, every season, every live talk, every speaker with a live talk: paths, in that order."""
    seasons = await db.execute("select distinct season from talks where season is not null and code is not null"
                                " and removed_at is null order by season")
    talks = await db.execute("select id, code from talks where removed_at is null order by season is null, season,"
                             " episode, id limit :n", {"n": MAX_URLS})
    speakers = await db.execute("""
        select s.id, s.name from speakers s where s.removed_at is null and exists (
          select 1 from talk_speakers ts join talks t on t.id = ts.talk_id
          where ts.speaker_id = s.id and ts.removed_at is null and t.removed_at is null)
        order by s.id limit :n""", {"n": MAX_URLS})
    paths = ["/", *(f"/season/{int(r['season'])}" for r in seasons.rows),
             *(talk_path(dict(r)) for r in talks.rows), *(speaker_path(dict(r)) for r in speakers.rows)]
    return paths[:MAX_URLS]


async def sitemap(datasette, request, db) -> Response:
    urlset = ET.Element("urlset", xmlns=SITEMAP_NS)
    for path in await sitemap_paths(db):
        ET.SubElement(ET.SubElement(urlset, "url"), "loc").text = datasette.absolute_url(request, path)
    body = ET.tostring(urlset, encoding="unicode", xml_declaration=True)
    return Response(body, content_type="application/xml; charset=utf-8")
