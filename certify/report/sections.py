"""Building blocks of report sections: labels, figures, tables, and pages made of sections.

A *section* is a fragment of a report with its own heading, in two forms: an HTML fragment
(figures embedded as ``data:`` URIs) and Markdown (figures written as PNG files into an image
folder beside the document). Section modules (:mod:`certify.report.path`,
:mod:`certify.report.path_diagnostics`, :mod:`certify.sensitivity.report`) expose
``section_html`` and ``section_markdown`` functions and a :class:`Section` bundling both, which
:func:`certify.report.render.write_report` (the main report of a network certificate) and
:func:`write_page` (a page made of sections only, e.g. for a data certificate) insert.

Every number a section shows carries one of two labels:

* **certified**: an exact value of a claim the independent checker accepted (or, when the
  claim was not checked or was rejected, the label says so instead);
* **numerical**: a float computation, not certified.

Every string is escaped here (HTML: :func:`html.escape`; Markdown: :func:`md_escape`), so hostile
certificate text renders as text.
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from markupsafe import Markup

from certify.report.plots import data_uri
from certify.report.values import html_exact, md_escape, md_exact

CERTIFIED = "certified"
NUMERICAL = "numerical"
_LABEL_STYLE = {
    "certified": "background:#dff3e3;color:#17602b",
    "numerical": "background:#e8eef7;color:#2b4c7e",
    "unchecked": "background:#fdf1d6;color:#7a5300",
    "rejected": "background:#fbe1e1;color:#8a1c1c",
}
LABEL_MEANINGS = {
    "certified": "exact, from a claim the independent checker accepted",
    "numerical": "floating point, not certified",
    "unchecked": "exact value of a claim that was not checked",
    "rejected": "exact value of a claim the checker REJECTED: not established",
}
LEGEND = (
    "Labels: certified = exact value of a claim the independent checker accepted; numerical = "
    "floating-point computation, not certified; unchecked = exact value of a claim not checked; "
    "rejected = a claim the checker rejected (not established)."
)


def claim_label(verdict: object) -> str:
    """The label of a claim's exact values: ``"certified"`` only when its verdict accepts it.

    Parameters
    ----------
    verdict : ClaimVerdict or None
        The checker's verdict on the claim (None: not checked).
    """
    if verdict is None:
        return "unchecked"
    return CERTIFIED if getattr(verdict, "accepted", False) else "rejected"


def verdict_of(check_report: object, claim_id: str) -> object:
    """The verdict on the claim ``claim_id`` in a check report, or None."""
    if check_report is None:
        return None
    return next(
        (v for v in getattr(check_report, "verdicts", []) if getattr(v, "claim_id", None) == claim_id), None
    )


def label_html(kind: str) -> Raw:
    """A small inline badge (inline style, so it renders in any page)."""
    style = _LABEL_STYLE.get(kind, _LABEL_STYLE["numerical"])
    return Raw(
        f'<span class="label {html.escape(kind)}" title="{html.escape(LABEL_MEANINGS.get(kind, kind))}" '
        f'style="{style};padding:0 .4em;border-radius:.6em;font-size:.8em;font-weight:600">'
        f"{html.escape(kind)}</span>"
    )


def label_md(kind: str) -> Raw:
    """``[certified]`` in bold, the other labels in italics (Markdown)."""
    return Raw(f"**\\[{md_escape(kind)}\\]**" if kind == CERTIFIED else f"*\\[{md_escape(kind)}\\]*")


def exact_html(value: object) -> Raw:
    """An exact rational (``Fraction`` or ``"p/q"``) rounded, the exact value at hand (:func:`html_exact`)."""
    return Raw(html_exact(_rational_text(value)))


def exact_md(value: object) -> Raw:
    """An exact rational (``Fraction`` or ``"p/q"``) rounded, the exact value at hand (:func:`md_exact`)."""
    return Raw(md_exact(_rational_text(value)))


def _rational_text(value: object) -> object:
    if isinstance(value, Fraction):
        return str(value.numerator) if value.denominator == 1 else f"{value.numerator}/{value.denominator}"
    return value


def fmt_float(value: object, digits: int = 4) -> str:
    """A float for reading (``digits`` significant digits); non-finite and non-numbers as text."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return f"{value:.{digits}g}"


class Raw(str):
    """Text already in the target format (HTML or Markdown): table helpers do not escape it."""


def _html_cell(value: object) -> str:
    return str(value) if isinstance(value, (Raw, Markup)) else html.escape(str(value))


def _md_cell(value: object) -> str:
    return str(value).replace("\n", " ") if isinstance(value, Raw) else md_escape(value)


def table_html(header: Sequence[object], rows: Sequence[Sequence[object]]) -> str:
    """An HTML table; cells are escaped unless they are :class:`Raw` (or ``Markup``)."""
    out = [
        "<table><thead><tr>" + "".join(f"<th>{_html_cell(h)}</th>" for h in header) + "</tr></thead><tbody>"
    ]
    for r in rows:
        out.append("<tr>" + "".join(f"<td>{_html_cell(c)}</td>" for c in r) + "</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def table_md(header: Sequence[object], rows: Sequence[Sequence[object]]) -> str:
    """A Markdown table; cells are escaped unless they are :class:`Raw`."""
    lines = ["| " + " | ".join(_md_cell(h) for h in header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_md_cell(c) for c in r) + " |" for r in rows]
    return "\n".join(lines)


def figure_html(png: bytes, alt: str, caption: str) -> str:
    """A figure with the PNG embedded as a data URI and an escaped caption."""
    return (
        f'<figure><img alt="{html.escape(alt)}" src="{data_uri(png)}">'
        f"<figcaption>{html.escape(caption)}</figcaption></figure>"
    )


def figure_md(
    png: bytes, name: str, alt: str, caption: str, image_dir: str | Path | None, image_link: str | None
) -> str:
    """Write ``<image_dir>/<name>.png`` and return the Markdown image with its caption.

    Without ``image_dir`` the figure is omitted and the text says so.
    """
    if image_dir is None:
        return f"*Figure omitted (no image folder given): {md_escape(caption)}*"
    folder = Path(image_dir)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.png").write_bytes(png)
    prefix = (image_link if image_link is not None else folder.name).rstrip("/")
    link = f"{prefix}/{name}.png" if prefix else f"{name}.png"
    return f"![{md_escape(alt)}]({link})\n\n*{md_escape(caption)}*"


@dataclass(frozen=True)
class Section:
    """A report section in both formats.

    Attributes
    ----------
    title : str
        The section's heading (for listings; the fragments carry their own heading).
    html : callable () -> str
        The HTML fragment (escapes its own text, figures embedded).
    markdown : callable (image_dir, image_link) -> str
        The Markdown text; figures are written as PNG files into ``image_dir`` (linked as
        ``image_link/<name>.png``); ``image_dir`` None omits them.
    """

    title: str
    html: Callable[[], str]
    markdown: Callable[[Path | None, str | None], str]


def report_format(path: str | Path) -> str:
    """``"html"`` or ``"markdown"`` from a report file's extension (checked before any work).

    Raises
    ------
    InputError
        If the extension is neither ``.html``/``.htm`` nor ``.md``/``.markdown``.
    """
    from certify.errors import InputError

    suffix = Path(path).suffix.lower()
    if suffix in (".html", ".htm"):
        return "html"
    if suffix in (".md", ".markdown"):
        return "markdown"
    raise InputError(f"report path must end in .html, .htm, .md or .markdown, got {Path(path).name!r}")


def image_folder(path: str | Path) -> Path:
    """The figure folder of a Markdown report: ``<stem>_files/`` beside it (as the main report)."""
    path = Path(path)
    return path.parent / f"{path.stem}_files"


def _check_context(document: dict, check_report: object) -> dict:
    from certify import __version__

    producer = document.get("producer") if isinstance(document.get("producer"), dict) else {}
    if check_report is None:
        status, summary = "unchecked", "NOT CHECKED"
    else:
        status = "accepted" if check_report.accepted else "rejected"
        summary = check_report.summary_line()
    return {
        "status": status,
        "summary": summary,
        "format": f"{document.get('format', '?')} {document.get('version', '?')}",
        "producer": f"{producer.get('name', '?')} {producer.get('version', '?')}",
        "report_version": __version__,
    }


def _items(document: dict, key: str) -> list[tuple[str, str]]:
    value = document.get(key) if isinstance(document.get(key), dict) else {}
    return [(str(k), str(v)[:200]) for k, v in value.items()]


def render_page_html(
    title: str, document: dict, check_report: object, sections: Sequence[Section], intro: str = ""
) -> str:
    """A self-contained HTML page: title, check verdict, the sections, conventions and inputs.

    ``intro`` is an HTML fragment (already escaped) shown under the verdict.
    """
    ctx = _check_context(document, check_report)
    esc = html.escape
    badge = {
        "accepted": "background:#dff3e3;color:#17602b",
        "rejected": "background:#fbe1e1;color:#8a1c1c",
        "unchecked": "background:#fdf1d6;color:#7a5300",
    }[ctx["status"]]
    rows = [(k, v) for k, v in _items(document, "conventions") + _items(document, "inputs")]
    parts = [
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1"><title>{esc(title)}</title>'
        "<style>body{font-family:system-ui,sans-serif;max-width:62rem;margin:2rem auto;padding:0 1rem;"
        "color:#1d2430;line-height:1.5}h2{font-size:1.25rem;border-bottom:1px solid #d8dee6;margin-top:2rem}"
        "table{border-collapse:collapse;margin:.5rem 0 1rem;font-size:.93rem}th,td{border:1px solid #d8dee6;"
        "padding:.3rem .5rem;text-align:left;vertical-align:top}th{background:#f3f5f8}"
        "figure img{max-width:100%;border:1px solid #e3e7ee}figcaption{font-size:.9rem;color:#4a5566}"
        ".num{white-space:nowrap}.exact{color:#4a5566;font-size:.88rem}code{word-break:break-all}"
        ".box{border-left:4px solid #3b78c4;background:#eef4fb;padding:.6rem .9rem;margin:1rem 0}"
        "</style></head><body>",
        f"<h1>{esc(title)}</h1>",
        f'<p><span style="{badge};padding:.15rem .6rem;border-radius:1rem;font-weight:600">'
        f"{esc(ctx['summary'])}</span> <span>certificate format {esc(ctx['format'])} · produced by "
        f"{esc(ctx['producer'])}</span></p>",
        intro,
        f'<p class="box">{esc(LEGEND)}</p>',
    ]
    parts += [s.html() for s in sections]
    parts.append(
        "<section><h2>Conventions and inputs</h2>" + table_html(["item", "value"], rows) + "</section>"
    )
    parts.append(f"<footer><p>report by certify {esc(ctx['report_version'])}</p></footer></body></html>\n")
    return "\n".join(parts)


def render_page_markdown(
    title: str,
    document: dict,
    check_report: object,
    sections: Sequence[Section],
    image_dir: str | Path | None,
    image_link: str | None = None,
    intro: str = "",
) -> str:
    """The Markdown form of :func:`render_page_html`; figures go into ``image_dir``.

    ``intro`` is Markdown (already escaped).
    """
    ctx = _check_context(document, check_report)
    folder = None if image_dir is None else Path(image_dir)
    rows = _items(document, "conventions") + _items(document, "inputs")
    parts = [
        f"# {md_escape(title)}",
        "",
        f"**{md_escape(ctx['summary'])}** · certificate format {md_escape(ctx['format'])} · produced by "
        f"{md_escape(ctx['producer'])}",
        "",
    ]
    if intro:
        parts += [intro, ""]
    parts += [f"> {md_escape(LEGEND)}", ""]
    for s in sections:
        parts += [s.markdown(folder, image_link), ""]
    parts += [
        "## Conventions and inputs",
        "",
        table_md(["item", "value"], rows),
        "",
        "---",
        "",
        f"report by certify {md_escape(ctx['report_version'])}",
        "",
    ]
    return "\n".join(parts)


def write_page(
    path: str | Path,
    title: str,
    document: dict,
    check_report: object,
    sections: Sequence[Section],
    intro_html: str = "",
    intro_markdown: str = "",
) -> Path:
    """Write a page made of sections as HTML or Markdown, by ``path``'s extension.

    A Markdown page's figures go into ``<stem>_files/`` beside it.
    """
    path = Path(path)
    if report_format(path) == "html":
        text = render_page_html(title, document, check_report, sections, intro_html)
    else:
        folder = image_folder(path)
        text = render_page_markdown(
            title, document, check_report, sections, folder, folder.name, intro_markdown
        )
    path.write_text(text, encoding="utf-8")
    return path
