"""Markdown that students wrote, rendered so that it cannot script the page it appears on.

nbgrader's formgrader and ``nbgrader generate_feedback`` render every Markdown cell with nbconvert's
``markdown2html``, which passes raw HTML and ``javascript:`` links through, and their templates do not
sanitize Markdown even with ``HTMLExporter.sanitize_html``. A written answer holding ``<script>``,
``<img onerror=...>`` or ``[x](javascript:...)`` would then run in the instructor's formgrader session
or in a feedback page. The course's ``nbgrader_config.py`` replaces the filter with :func:`markdown2html`:
the same rendering, then an allow-list of tags, attributes and URL schemes (bleach, which nbconvert
already depends on).
"""

from __future__ import annotations

import bleach
import jinja2

TAGS = {"a", "abbr", "b", "blockquote", "br", "code", "del", "div", "em", "h1", "h2", "h3", "h4", "h5", "h6",
        "hr", "i", "img", "kbd", "li", "ol", "p", "pre", "s", "span", "strong", "sub", "sup", "table", "tbody",
        "td", "th", "thead", "tr", "ul"}
ATTRIBUTES = {"*": ["class", "id", "title"], "a": ["href", "title"], "img": ["src", "alt", "title"],
              "th": ["align"], "td": ["align"]}
PROTOCOLS = {"http", "https", "mailto"}


def clean(html: str) -> str:
    """Only inert HTML: allowed tags keep allowed attributes; anything else is shown as text."""
    return bleach.clean(html, tags=TAGS, attributes=ATTRIBUTES, protocols=PROTOCOLS, strip=False)


@jinja2.pass_context
def markdown2html(context, source: str) -> str:
    """nbconvert's HTMLExporter.markdown2html, sanitized (a drop-in Jinja filter)."""
    from nbconvert.filters.markdown_mistune import IPythonRenderer, MarkdownWithMath

    cell = context.get("cell", {}) or {}
    renderer = IPythonRenderer(escape=False, attachments=cell.get("attachments", {}), embed_images=False,
                               path=context.get("resources", {}).get("metadata", {}).get("path", ""),
                               anchor_link_text="¶", exclude_anchor_links=False)
    return clean(MarkdownWithMath(renderer=renderer).render(source))
