"""The SVG writer: escaped text and attributes, round ticks, scales, axes, markers and legends that parse."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from wildrydes_mr import svg

NS = {"s": svg.SVG_NAMESPACE}


def parse(drawing: svg.Drawing) -> ET.Element:
    return ET.fromstring(drawing.to_string())


def test_text_and_attributes_are_escaped_and_python_names_become_svg_names():
    page = svg.Drawing(100, 50)
    page.add("text", 'a < b & "c"', x=1.0, y=2.256, class_="t", data_note='say "hi" <now>', font_size=9,
             skipped=None).titled("tip & <tool>")
    root = parse(page)
    text = root.find("s:text", NS)
    assert text.text == 'a < b & "c"'
    assert text.get("class") == "t" and text.get("data-note") == 'say "hi" <now>'
    assert text.get("font-size") == "9" and text.get("y") == "2.26" and text.get("x") == "1"
    assert "skipped" not in text.attrib
    assert text.find("s:title", NS).text == "tip & <tool>"
    assert root.get("viewBox") == "0 0 100 50"


def test_set_height_changes_the_page_and_its_view_box():
    page = svg.Drawing(200, 10)
    page.set_height(123.5)
    root = parse(page)
    assert root.get("height") == "123.5" and root.get("viewBox") == "0 0 200 123.5"


@pytest.mark.parametrize(("span", "count", "step"), [(10, 10, 1), (9.3, 5, 2), (0.37, 4, 0.1), (1200, 6, 200),
                                                      (47, 8, 10), (47, 10, 5)])
def test_nice_step_is_one_two_or_five_times_a_power_of_ten(span, count, step):
    assert svg.nice_step(span, count) == pytest.approx(step)


def test_scale_maps_ends_and_ticks_stay_inside_the_domain():
    x = svg.Scale(-2.0, 13.0, 100, 400)
    assert x(-2.0) == 100 and x(13.0) == 400 and x(5.5) == pytest.approx(250)
    ticks = x.ticks(8)
    assert ticks[0] >= -2.0 and ticks[-1] <= 13.0 and 0.0 in ticks
    assert len({round(b - a, 9) for a, b in zip(ticks, ticks[1:], strict=False)}) == 1
    y = svg.Scale(0.0, 10.0, 200, 20)  # grows upwards
    assert y(0.0) == 200 and y(10.0) == 20


def test_axes_label_every_tick_and_the_second_line_when_asked():
    page = svg.Drawing(500, 300)
    x = svg.Scale(0.0, 10.0, 50, 450)
    svg.x_axis(page, x, 250, "seconds", ticks=[0, 5, 10], second_label=lambda v: f"{v * 10:g}")
    svg.y_axis(page, svg.Scale(0.0, 100.0, 240, 20), 50, "RTO s", grid_to=450)
    root = parse(page)
    x_axis = root.find("s:g[@class='axis x-axis']", NS)
    labels = [t.text for t in x_axis.findall("s:text[@class='tick-label']", NS)]
    seconds = [t.text for t in x_axis.findall("s:text[@class='tick-label second']", NS)]
    assert labels == ["0", "5", "10"] and seconds == ["0", "50", "100"]
    assert x_axis.find("s:text[@class='axis-label']", NS).text == "seconds"
    y_axis = root.find("s:g[@class='axis y-axis']", NS)
    assert [t.text for t in y_axis.findall("s:text[@class='tick-label']", NS)] == ["0", "20", "40", "60", "80",
                                                                                   "100"]
    assert len(y_axis.findall("s:line[@class='grid']", NS)) == 6


@pytest.mark.parametrize(("shape", "tag"), [("circle", "circle"), ("square", "rect"), ("triangle-down", "polygon"),
                                            ("cross", "path")])
def test_markers(shape, tag):
    page = svg.Drawing(50, 50)
    svg.marker(page, shape, 20, 20, 10, "none", "#123456", class_="m")
    element = parse(page).find(f"s:{tag}[@class='m']", NS)
    assert element is not None and element.get("stroke") == "#123456"


def test_unknown_marker_shape_is_refused():
    with pytest.raises(ValueError):
        svg.marker(svg.Drawing(10, 10), "star", 1, 1, 1, "red")


def test_legend_wraps_at_the_width_and_returns_the_y_below_it():
    page = svg.Drawing(400, 200)
    entries = [svg.LegendEntry(f"entry number {i}", "#000000", kind)
               for i, kind in enumerate(["swatch", "span", "dashed", "circle", "triangle-down", "line"])]
    bottom = svg.legend(page, 10, 20, entries, max_width=300)
    legend = parse(page).find("s:g[@class='legend']", NS)
    items = legend.findall("s:g[@class='legend-entry']", NS)
    assert [i.find("s:text", NS).text for i in items] == [e.label for e in entries]
    rows = sorted({float(i.find("s:text", NS).get("y")) for i in items})
    assert len(rows) > 1 and bottom == rows[-1] + 18
    for item in items:
        assert float(item.find("s:text", NS).get("x")) + svg.text_width("entry number 0", 11) <= 10 + 300 + 20
