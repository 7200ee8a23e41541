"""A chart as a small scene of shapes, drawn as SVG (pages) or as a reportlab Drawing (PDF).

A ``Scene`` holds rectangles, lines, polygons, circles and texts in a
top-left coordinate system, as SVG has it; ``svg()`` writes them with
presentation attributes only (no ``style`` attribute, nothing inline that a
strict Content-Security-Policy would refuse, nothing from other hosts) and
``drawing()`` flips them into reportlab's bottom-left system for the PDF.
The charts themselves are built in ``charts``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html import escape

from markupsafe import Markup

from survey.text import clean_for_file

TEXT = "#1a1a1a"
FONT = "DejaVu Sans, system-ui, Segoe UI, Roboto, Arial, sans-serif"


@dataclass
class Shape:
    kind: str
    attrs: dict
    text: str = ""


@dataclass
class Scene:
    width: float
    height: float
    title: str = ""
    shapes: list[Shape] = field(default_factory=list)

    # --- building ---------------------------------------------------------------
    def rect(self, x, y, w, h, fill, stroke=None, rx=0.0) -> None:
        self.shapes.append(
            Shape(
                "rect",
                {
                    "x": x,
                    "y": y,
                    "w": max(w, 0.0),
                    "h": h,
                    "fill": fill,
                    "stroke": stroke,
                    "rx": rx,
                },
            )
        )

    def line(self, x1, y1, x2, y2, stroke, width=1.0, dash: str | None = None) -> None:
        self.shapes.append(
            Shape(
                "line",
                {
                    "x1": x1,
                    "y1": y1,
                    "x2": x2,
                    "y2": y2,
                    "stroke": stroke,
                    "sw": width,
                    "dash": dash,
                },
            )
        )

    def polygon(self, points, fill) -> None:
        self.shapes.append(Shape("polygon", {"points": list(points), "fill": fill}))

    def polyline(self, points, stroke, width=2.0) -> None:
        self.shapes.append(
            Shape("polyline", {"points": list(points), "stroke": stroke, "sw": width})
        )

    def circle(self, cx, cy, r, fill, stroke=None, width=1.5) -> None:
        self.shapes.append(
            Shape(
                "circle", {"cx": cx, "cy": cy, "r": r, "fill": fill, "stroke": stroke, "sw": width}
            )
        )

    def text(self, x, y, text, size=12.0, anchor="start", bold=False, fill=TEXT) -> None:
        self.shapes.append(
            Shape(
                "text",
                {"x": x, "y": y, "size": size, "anchor": anchor, "bold": bold, "fill": fill},
                clean_for_file(text),  # names end up in PDF and SVG (XML) alike
            )
        )

    # --- SVG --------------------------------------------------------------------
    def svg(self, css_class: str = "chart", fixed: bool = False, stretch: bool = False) -> Markup:
        """The scene as an inline SVG element.

        ``fixed`` keeps its pixel size; ``stretch`` lets CSS size it freely
        (for shapes without text, such as a bar that fills a row).
        """
        size = f' width="{_n(self.width)}" height="{_n(self.height)}"' if fixed else ""
        if stretch:
            size += ' preserveAspectRatio="none"'
        label = escape(self.title, quote=True)
        out = [
            f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_n(self.width)} '
            f'{_n(self.height)}"{size} class="{css_class}" role="img" aria-label="{label}" '
            f'font-family="{FONT}">'
        ]
        if self.title:
            out.append(f"<title>{escape(self.title)}</title>")
        for s in self.shapes:
            out.append(_svg_shape(s))
        out.append("</svg>")
        return Markup("".join(out))

    # --- reportlab --------------------------------------------------------------
    def drawing(
        self, scale: float = 1.0, font: str = "DejaVuSans", bold_font: str = "DejaVuSans-Bold"
    ):
        from reportlab.graphics.shapes import Circle, Drawing, Line, Polygon, PolyLine, Rect, String
        from reportlab.lib.colors import HexColor

        def color(value):
            return HexColor(value) if value else None

        h = self.height
        d = Drawing(self.width * scale, h * scale)
        items = []
        for s in self.shapes:
            a = s.attrs
            if s.kind == "rect":
                items.append(
                    Rect(
                        a["x"],
                        h - a["y"] - a["h"],
                        a["w"],
                        a["h"],
                        rx=a["rx"],
                        ry=a["rx"],
                        fillColor=color(a["fill"]),
                        strokeColor=color(a["stroke"]),
                        strokeWidth=0.8 if a["stroke"] else 0,
                    )
                )
            elif s.kind == "line":
                items.append(
                    Line(
                        a["x1"],
                        h - a["y1"],
                        a["x2"],
                        h - a["y2"],
                        strokeColor=color(a["stroke"]),
                        strokeWidth=a["sw"],
                        strokeDashArray=[float(v) for v in a["dash"].split()]
                        if a["dash"]
                        else None,
                    )
                )
            elif s.kind == "polygon":
                pts = [v for x, y in a["points"] for v in (x, h - y)]
                items.append(
                    Polygon(pts, fillColor=color(a["fill"]), strokeColor=None, strokeWidth=0)
                )
            elif s.kind == "polyline":
                pts = [v for x, y in a["points"] for v in (x, h - y)]
                items.append(PolyLine(pts, strokeColor=color(a["stroke"]), strokeWidth=a["sw"]))
            elif s.kind == "circle":
                items.append(
                    Circle(
                        a["cx"],
                        h - a["cy"],
                        a["r"],
                        fillColor=color(a["fill"]),
                        strokeColor=color(a["stroke"]),
                        strokeWidth=a["sw"] if a["stroke"] else 0,
                    )
                )
            elif s.kind == "text":
                items.append(
                    String(
                        a["x"],
                        h - a["y"],
                        s.text,
                        fontName=bold_font if a["bold"] else font,
                        fontSize=a["size"],
                        fillColor=color(a["fill"]),
                        textAnchor=a["anchor"],
                    )
                )
        for item in items:
            d.add(item)
        if scale != 1.0:
            d.scale(scale, scale)
        return d


def _n(v: float) -> str:
    text = f"{v:.2f}".rstrip("0").rstrip(".")
    return text if text != "-0" else "0"


def _element(tag: str, attrs: dict, text: str | None = None) -> str:
    """``<tag name="value" …/>`` (or with ``text`` inside); numbers go through ``_n``,
    attributes whose value is None are left out."""
    written = "".join(
        f' {name}="{value if isinstance(value, str) else _n(value)}"'
        for name, value in attrs.items()
        if value is not None
    )
    if text is None:
        return f"<{tag}{written}/>"
    return f"<{tag}{written}>{escape(text)}</{tag}>"


def _svg_shape(s: Shape) -> str:
    a = s.attrs
    stroke = a.get("stroke") or None
    if s.kind == "rect":
        box = {"x": a["x"], "y": a["y"], "width": a["w"], "height": a["h"], "fill": a["fill"]}
        return _element("rect", {**box, "stroke": stroke, "rx": a["rx"] or None})
    if s.kind == "line":
        ends = {"x1": a["x1"], "y1": a["y1"], "x2": a["x2"], "y2": a["y2"]}
        pen = {"stroke": stroke, "stroke-width": a["sw"], "stroke-dasharray": a["dash"] or None}
        return _element("line", {**ends, **pen})
    if s.kind in ("polygon", "polyline"):
        pts = " ".join(f"{_n(x)},{_n(y)}" for x, y in a["points"])
        if s.kind == "polygon":
            return _element("polygon", {"points": pts, "fill": a["fill"]})
        pen = {"stroke": stroke, "stroke-width": a["sw"], "stroke-linejoin": "round"}
        return _element("polyline", {"points": pts, "fill": "none", **pen})
    if s.kind == "circle":
        centre = {"cx": a["cx"], "cy": a["cy"], "r": a["r"], "fill": a["fill"]}
        return _element("circle", {**centre, "stroke": stroke, "stroke-width": stroke and a["sw"]})
    place = {"x": a["x"], "y": a["y"], "font-size": a["size"], "text-anchor": a["anchor"]}
    paint = {"fill": a["fill"], "font-weight": "700" if a["bold"] else None}
    return _element("text", {**place, **paint}, s.text)
