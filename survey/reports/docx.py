"""The report as a Word document (DOCX), for the office to edit before signing.

The same document as the PDF (``pdf.letterhead`` and ``pdf.blocks``): the
administrative header and closing of Nghị định 30/2020/NĐ-CP, Times New Roman
13 pt, the decree's margins, the page number centred in the header from page 2
on, every table with the same numbers. The charts are left out (Word would
need them as pictures); the tables beside them carry every value.
"""

from __future__ import annotations

import io

from docx import Document
from docx.enum.section import WD_SECTION
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor
from sqlalchemy.orm import Session

from survey.reports import pdf
from survey.reports.build import Report
from survey.text import clean_for_file

FONT = "Times New Roman"
GREY = RGBColor(0x7D, 0x87, 0x91)


def _text(value: str) -> str:
    # XML 1.0 cannot hold most control characters; stored text may predate the checks.
    return clean_for_file(value)


def _para(
    container,
    text: str = "",
    *,
    size: float = pdf.BODY_SIZE,
    bold: bool = False,
    italic: bool = False,
    align=None,
    indent: bool = False,
    after: float = 0,
    before: float = 0,
    color: RGBColor | None = None,
):
    p = container.add_paragraph()
    if text:
        run = p.add_run(_text(text))
        run.font.size, run.font.bold, run.font.italic = Pt(size), bold, italic
        run.font.name = FONT
        if color is not None:
            run.font.color.rgb = color
    fmt = p.paragraph_format
    fmt.space_after, fmt.space_before = Pt(after), Pt(before)
    if align is not None:
        p.alignment = align
    if indent:
        fmt.first_line_indent = Mm(10)
    return p


_AFTER_PBDR = (
    "w:shd",
    "w:tabs",
    "w:suppressAutoHyphens",
    "w:kinsoku",
    "w:wordWrap",
    "w:overflowPunct",
    "w:topLinePunct",
    "w:autoSpaceDE",
    "w:autoSpaceDN",
    "w:bidi",
    "w:adjustRightInd",
    "w:snapToGrid",
    "w:spacing",
    "w:ind",
    "w:contextualSpacing",
    "w:mirrorIndents",
    "w:suppressOverlap",
    "w:jc",
    "w:textDirection",
    "w:textAlignment",
    "w:textboxTightWrap",
    "w:outlineLvl",
    "w:divId",
    "w:cnfStyle",
    "w:rPr",
    "w:sectPr",
    "w:pPrChange",
)
_AFTER_TBLBORDERS = ("w:shd", "w:tblLayout", "w:tblCellMar", "w:tblLook", "w:tblCaption")


def _rule(container, width_mm: float, avail_mm: float) -> None:
    """A short centred line: the bottom border of an empty paragraph indented to that width."""
    p = container.add_paragraph()
    fmt = p.paragraph_format
    side = Mm(max(avail_mm - width_mm, 0) / 2)
    fmt.left_indent, fmt.right_indent = side, side
    fmt.space_after, fmt.space_before = Pt(4), Pt(0)
    fmt.line_spacing = Pt(2)
    border = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    for key, value in (("val", "single"), ("sz", "6"), ("space", "1"), ("color", "000000")):
        bottom.set(qn(f"w:{key}"), value)
    border.append(bottom)
    # Schema order: the border comes before spacing, indents and alignment.
    p._p.get_or_add_pPr().insert_element_before(border, *_AFTER_PBDR)


def _no_borders(table) -> None:
    borders = OxmlElement("w:tblBorders")
    for edge in ("top", "left", "bottom", "right", "insideH", "insideV"):
        e = OxmlElement(f"w:{edge}")
        e.set(qn("w:val"), "nil")
        borders.append(e)
    table._tbl.tblPr.insert_element_before(borders, *_AFTER_TBLBORDERS)


def _widths(table, widths) -> None:
    """Column widths that Word and LibreOffice both keep (grid and every cell)."""
    table.autofit = False
    for j, w in enumerate(widths):
        table.columns[j].width = w
        for cell in table.columns[j].cells:
            cell.width = w


def _cell(table, i: int, j: int):
    cell = table.cell(i, j)
    cell.paragraphs[0]._p.getparent().remove(cell.paragraphs[0]._p)  # start empty
    return cell


def _header(doc, lh: pdf.Letterhead) -> None:
    t = doc.add_table(rows=2, cols=2)
    _no_borders(t)
    t.alignment = WD_TABLE_ALIGNMENT.CENTER
    _widths(t, (Mm(68), Mm(pdf.WIDTH / pdf.mm - 68)))
    c = WD_ALIGN_PARAGRAPH.CENTER
    left = _cell(t, 0, 0)
    if lh.parent:
        _para(left, lh.parent, size=12.5, align=c)
    _para(left, lh.issuer, size=12.5, bold=True, align=c)
    _rule(left, 25, 68)
    right = _cell(t, 0, 1)
    _para(right, pdf.QUOC_HIEU, size=12.5, bold=True, align=c)
    _para(right, pdf.TIEU_NGU, size=13.5, bold=True, align=c)
    _rule(right, 62, pdf.WIDTH / pdf.mm - 68)
    _para(_cell(t, 1, 0), lh.number, align=c, before=4)
    _para(_cell(t, 1, 1), lh.place_date, italic=True, align=c, before=4)
    _para(doc, lh.kind, size=14, bold=True, align=c, before=16)
    _para(doc, lh.subject, size=14, bold=True, align=c)
    _rule(doc, 40, pdf.WIDTH / pdf.mm)


def _grid(doc, g: pdf.Grid) -> None:
    t = doc.add_table(rows=len(g.rows), cols=len(g.widths))
    t.style = "Table Grid"
    t.alignment = WD_TABLE_ALIGNMENT.CENTER
    _widths(t, [Mm(w / pdf.mm) for w in g.widths])
    for i, row in enumerate(g.rows):
        for j, value in enumerate(row):
            p = t.cell(i, j).paragraphs[0]
            run = p.add_run(_text(str(value)))
            run.font.size, run.font.name, run.font.bold = Pt(10), FONT, i == 0
            if i and j not in g.left:
                p.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    # The header row repeats on every page, as in the PDF.
    tr_pr = t.rows[0]._tr.get_or_add_trPr()
    head = OxmlElement("w:tblHeader")
    head.set(qn("w:val"), "true")
    tr_pr.append(head)
    _para(doc, after=2)


def _closing(doc, lh: pdf.Letterhead) -> None:
    t = doc.add_table(rows=1, cols=2)
    _no_borders(t)
    _widths(t, (Mm(pdf.WIDTH / pdf.mm * 0.48), Mm(pdf.WIDTH / pdf.mm * 0.52)))
    left = _cell(t, 0, 0)
    _para(left, "Nơi nhận:", size=12, bold=True, italic=True, before=12)
    for r in lh.recipients:
        _para(left, f"- {r}", size=11)
    right = _cell(t, 0, 1)
    c = WD_ALIGN_PARAGRAPH.CENTER
    _para(right, lh.signer_title, bold=True, align=c, before=12, after=70)
    _para(right, lh.signer_name, bold=True, align=c)


def _page_numbers(section) -> None:
    """The page number centred in the header, not on the first page (NĐ 30/2020)."""
    section.different_first_page_header_footer = True
    p = section.header.paragraphs[0]
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = p.add_run()
    run.font.size, run.font.name = Pt(pdf.BODY_SIZE), FONT
    for kind, text in (("begin", None), (None, "PAGE"), ("end", None)):
        if kind:
            el = OxmlElement("w:fldChar")
            el.set(qn("w:fldCharType"), kind)
        else:
            el = OxmlElement("w:instrText")
            el.set(qn("xml:space"), "preserve")
            el.text = text
        run._r.append(el)


def render(session: Session, report: Report) -> bytes:
    lh = pdf.settings_letterhead(session, report)
    doc = Document()
    normal = doc.styles["Normal"]
    normal.font.name, normal.font.size = FONT, Pt(pdf.BODY_SIZE)
    normal.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), FONT)
    section = doc.sections[0]
    section.start_type = WD_SECTION.NEW_PAGE
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(20), Mm(20)
    section.left_margin, section.right_margin = Mm(30), Mm(15)
    section.header_distance = Mm(10)
    _page_numbers(section)
    doc.core_properties.title = _text(f"{lh.kind} {lh.subject}")
    doc.core_properties.author = _text(lh.issuer)
    _header(doc, lh)
    just = WD_ALIGN_PARAGRAPH.JUSTIFY
    for b in pdf.blocks(session, report):
        if isinstance(b, pdf.Heading):
            _para(doc, b.text, bold=True, before=8, after=4)
        elif isinstance(b, pdf.Chart):
            if b.heading:
                _para(doc, b.heading, bold=True, before=8, after=4)
        elif isinstance(b, pdf.Grid):
            _grid(doc, b)
        elif b.style in ("big", "big_small"):
            _para(
                doc,
                b.text,
                size=18,
                bold=True,
                after=4,
                color=GREY if b.style == "big_small" else None,
            )
        elif b.style == "quote":
            p = _para(doc, b.text, after=4)
            p.paragraph_format.left_indent = Mm(8)
        else:
            _para(doc, b.text, align=just, indent=True, after=6)
    _closing(doc, lh)
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()
