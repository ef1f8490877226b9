"""A small SVG writer for the report pictures (the failover timeline, the game-day trend): elements with escaped
text and attributes, linear scales with round ticks, axes, point markers and legends. No plotting stack.

Elements carry `class` names (`Element.add(..., class_="span fault")`) so a test, or a person reading the file,
can find what was drawn by meaning rather than by position.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from html import escape

SVG_NAMESPACE = "http://www.w3.org/2000/svg"
CHAR_WIDTH = 0.6  # average glyph width of a sans-serif face, in font sizes: enough to lay out legends


def number(value: float) -> str:
    """A coordinate as SVG wants it: at most two decimals, no trailing zeros."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _attribute(name: str, value: object) -> str:
    # Python names → SVG names: class_ → class, stroke_width → stroke-width, data_name → data-name.
    name = name.rstrip("_").replace("_", "-")
    text = number(value) if isinstance(value, float) else str(value)
    return f'{name}="{escape(text, quote=True)}"'


class Element:
    """One SVG element; children and text are escaped when rendered. Attributes that are None are left out."""

    def __init__(self, tag: str, text: str | None = None, **attributes: object):
        self.tag = tag
        self.text = text
        self.attributes = {k: v for k, v in attributes.items() if v is not None}
        self.children: list[Element] = []

    def add(self, tag: str, text: str | None = None, **attributes: object) -> Element:
        child = Element(tag, text, **attributes)
        self.children.append(child)
        return child

    def group(self, **attributes: object) -> Element:
        return self.add("g", **attributes)

    def titled(self, tooltip: str | None) -> Element:
        """Adds a <title> (what a browser shows on hover); returns self."""
        if tooltip:
            self.add("title", tooltip)
        return self

    def render(self, depth: int = 0) -> str:
        attributes = "".join(" " + _attribute(k, v) for k, v in self.attributes.items())
        pad = "  " * depth
        if not self.children and self.text is None:
            return f"{pad}<{self.tag}{attributes}/>"
        text = escape(self.text, quote=False) if self.text is not None else ""
        if not self.children:
            return f"{pad}<{self.tag}{attributes}>{text}</{self.tag}>"
        if self.text is not None:  # mixed content (text with a <title> or <tspan>): no added whitespace
            inner = "".join(child.render() for child in self.children)
            return f"{pad}<{self.tag}{attributes}>{text}{inner}</{self.tag}>"
        inner = "\n".join(child.render(depth + 1) for child in self.children)
        return f"{pad}<{self.tag}{attributes}>{text}\n{inner}\n{pad}</{self.tag}>"


class Drawing(Element):
    """The <svg> root: a white page of `width` × `height` pixels."""

    def __init__(self, width: float, height: float, font_size: int = 11):
        super().__init__("svg", xmlns=SVG_NAMESPACE, width=width, height=height,
                         viewBox=f"0 0 {number(width)} {number(height)}", font_family="sans-serif",
                         font_size=font_size)
        self.font_size = font_size
        self.add("rect", width="100%", height="100%", fill="white", class_="background")

    def set_height(self, height: float) -> None:
        """Pictures laid out top to bottom learn their height at the end."""
        self.attributes["height"] = height
        self.attributes["viewBox"] = f"0 0 {number(self.attributes['width'])} {number(height)}"

    def heading(self, x: float, y: float, text: str) -> Element:
        return self.add("text", text, x=x, y=y, font_size=self.font_size + 3, font_weight="bold", class_="title")

    def to_string(self) -> str:
        return self.render() + "\n"


def text_width(text: str, font_size: float) -> float:
    return len(text) * font_size * CHAR_WIDTH


def nice_step(span: float, count: int) -> float:
    """The smallest round step (1, 2 or 5 × 10^k) that cuts `span` into at most `count` intervals."""
    if span <= 0 or not math.isfinite(span):
        return 1.0
    raw = span / max(count, 1)
    magnitude = 10 ** math.floor(math.log10(raw))
    return next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw * 0.999)


@dataclass(frozen=True)
class Scale:
    """Maps values in [low, high] onto pixels [start, end] (end < start for a y axis that grows upwards)."""

    low: float
    high: float
    start: float
    end: float

    def __call__(self, value: float) -> float:
        span = self.high - self.low or 1.0
        return self.start + (value - self.low) / span * (self.end - self.start)

    def ticks(self, count: int = 8) -> list[float]:
        step = nice_step(self.high - self.low, count)
        first = math.ceil(self.low / step - 1e-9) * step
        values, index = [], 0
        while first + index * step <= self.high + step * 1e-9:
            values.append(round(first + index * step, 10))
            index += 1
        return values


def tick_text(value: float) -> str:
    return f"{value:g}"


def x_axis(parent: Element, scale: Scale, y: float, label: str | None = None, ticks: Sequence[float] | None = None,
           tick_label: Callable[[float], str] = tick_text,
           second_label: Callable[[float], str] | None = None) -> Element:
    """A horizontal axis at `y`: the line, ticks with labels below (and a second, grey line of labels), a title."""
    axis = parent.group(class_="axis x-axis")
    axis.add("line", x1=scale.start, y1=y, x2=scale.end, y2=y, stroke="black")
    for value in scale.ticks() if ticks is None else ticks:
        px = scale(value)
        axis.add("line", x1=px, y1=y, x2=px, y2=y + 5, stroke="black", class_="tick")
        axis.add("text", tick_label(value), x=px, y=y + 17, text_anchor="middle", class_="tick-label")
        if second_label is not None:
            axis.add("text", second_label(value), x=px, y=y + 30, text_anchor="middle", fill="#666666",
                     class_="tick-label second")
    if label:
        axis.add("text", label, x=(scale.start + scale.end) / 2, y=y + (46 if second_label else 33),
                 text_anchor="middle", class_="axis-label")
    return axis


def y_axis(parent: Element, scale: Scale, x: float, label: str | None = None,
           tick_label: Callable[[float], str] = tick_text, grid_to: float | None = None) -> Element:
    """A vertical axis at `x`: the line, ticks labelled on the left, light grid lines to `grid_to`, a title."""
    axis = parent.group(class_="axis y-axis")
    axis.add("line", x1=x, y1=scale.start, x2=x, y2=scale.end, stroke="black")
    for value in scale.ticks(5):
        py = scale(value)
        if grid_to is not None:
            axis.add("line", x1=x, y1=py, x2=grid_to, y2=py, stroke="#e6e6e6", class_="grid")
        axis.add("line", x1=x - 5, y1=py, x2=x, y2=py, stroke="black", class_="tick")
        axis.add("text", tick_label(value), x=x - 8, y=py + 4, text_anchor="end", class_="tick-label")
    if label:
        middle = (scale.start + scale.end) / 2
        axis.add("text", label, x=x - 48, y=middle, text_anchor="middle",
                 transform=f"rotate(-90 {number(x - 48)} {number(middle)})", class_="axis-label")
    return axis


def marker(parent: Element, shape: str, x: float, y: float, size: float, fill: str, stroke: str | None = None,
           **attributes: object) -> Element:
    """A point: circle, square, triangle-down (tip at y + size/2) or cross; `fill` "none" draws an outline."""
    half = size / 2
    outline = {"stroke": stroke or fill, "stroke_width": 1.5}
    if shape == "circle":
        return parent.add("circle", cx=x, cy=y, r=half, fill=fill, **outline, **attributes)
    if shape == "square":
        return parent.add("rect", x=x - half, y=y - half, width=size, height=size, fill=fill, **outline,
                          **attributes)
    if shape == "triangle-down":
        points = f"{number(x - half)},{number(y - half)} {number(x + half)},{number(y - half)} " \
                 f"{number(x)},{number(y + half)}"
        return parent.add("polygon", points=points, fill=fill, **outline, **attributes)
    if shape == "cross":
        d = (f"M{number(x - half)} {number(y - half)} L{number(x + half)} {number(y + half)} "
             f"M{number(x - half)} {number(y + half)} L{number(x + half)} {number(y - half)}")
        return parent.add("path", d=d, fill="none", stroke=stroke or fill, stroke_width=2, **attributes)
    raise ValueError(f"unknown marker shape {shape!r}")


@dataclass(frozen=True)
class LegendEntry:
    """One legend item; `kind` is a marker shape, "swatch" (a filled box), "span" (a pale box), "line" or
    "dashed"."""

    label: str
    colour: str
    kind: str = "swatch"
    filled: bool = True


def legend(parent: Element, x: float, y: float, entries: Iterable[LegendEntry], max_width: float,
           font_size: float = 11) -> float:
    """Lays the entries out left to right, wrapping at `max_width`; returns the y below the last row."""
    group = parent.group(class_="legend")
    cx, cy = x, y
    for entry in entries:
        width = 18 + text_width(entry.label, font_size) + 16
        if cx > x and cx + width > x + max_width:
            cx, cy = x, cy + 18
        item = group.group(class_="legend-entry")
        if entry.kind == "swatch":
            item.add("rect", x=cx, y=cy - 10, width=12, height=12, fill=entry.colour)
        elif entry.kind == "span":
            item.add("rect", x=cx, y=cy - 10, width=12, height=12, fill=entry.colour, fill_opacity=0.25,
                     stroke=entry.colour)
        elif entry.kind in ("line", "dashed"):
            item.add("line", x1=cx, y1=cy - 4, x2=cx + 12, y2=cy - 4, stroke=entry.colour, stroke_width=2,
                     stroke_dasharray="4 2" if entry.kind == "dashed" else None)
        else:
            marker(item, entry.kind, cx + 6, cy - 4, 10, entry.colour if entry.filled else "none", entry.colour)
        item.add("text", entry.label, x=cx + 18, y=cy)
        cx += width
    return cy + 18
