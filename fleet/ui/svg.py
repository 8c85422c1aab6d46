"""Charts of the school and funding pages as inline SVG: drawn on the server, every value also written as text."""

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from markupsafe import Markup

CHART_WIDTH = 720
LABEL_HEIGHT = 18
BAR_HEIGHT = 16
ROW_GAP = 14
BURN_HEIGHT = 28
MARK_SPACE = 18


@dataclass(frozen=True)
class RolloutBar:
    """One school's row: its name, the three counts, and the sentence that states them."""

    key: str
    label: str
    required: int
    present: int
    verified: int
    text: str


@dataclass(frozen=True)
class Segment:
    """A part of a funding bar: a CSS name, its amount and the words a reader hears for it."""

    name: str
    amount: Decimal
    text: str


def _scale(value: float, largest: float, width: float) -> float:
    return round(width * value / largest, 1) if largest else 0.0


def rollout_chart(bars: Sequence[RolloutBar], title: str, description: str) -> Markup:
    """Horizontal bars, one per school: required (outline), present (light) and verified (dark) on one scale."""
    largest = max((max(bar.required, bar.present, bar.verified) for bar in bars), default=0)
    row = LABEL_HEIGHT + BAR_HEIGHT + ROW_GAP
    height = max(row * len(bars), row)
    span = CHART_WIDTH - 2  # the outline of the longest bar stays inside the picture
    parts = [Markup('<svg class="chart chart-rollout" role="img" aria-label="{title}" '
                    'aria-describedby="rollout-chart-desc" viewBox="0 0 {w} {h}" width="{w}" height="{h}" '
                    'preserveAspectRatio="xMinYMin meet" xmlns="http://www.w3.org/2000/svg">'
                    '<title id="rollout-chart-title">{title}</title><desc id="rollout-chart-desc">{desc}</desc>')
             .format(w=CHART_WIDTH, h=height, title=title, desc=description)]
    for index, bar in enumerate(bars):
        top = index * row
        y = top + LABEL_HEIGHT
        parts.append(Markup(
            '<g class="chart-row" data-school="{key}" data-counts="{r}/{p}/{v}"><title>{label}: {text}</title>'
            '<text class="chart-label" x="0" y="{ty}"><tspan class="chart-name">{label}</tspan>'
            '<tspan class="chart-values" dx="8">{text}</tspan></text>'
            '<rect class="bar-required" x="1" y="{y}" width="{rw}" height="{h}"/>'
            '<rect class="bar-present" x="1" y="{y}" width="{pw}" height="{h}"/>'
            '<rect class="bar-verified" x="1" y="{y}" width="{vw}" height="{h}"/></g>').format(
            key=bar.key, r=bar.required, p=bar.present, v=bar.verified, label=bar.label, text=bar.text,
            ty=top + LABEL_HEIGHT - 5, y=y, h=BAR_HEIGHT, rw=_scale(bar.required, largest, span),
            pw=_scale(bar.present, largest, span), vw=_scale(bar.verified, largest, span)))
    parts.append(Markup("</svg>"))
    return Markup("").join(parts)


def burn_chart(key: str, approved: Decimal, segments: Sequence[Segment], title: str, description: str,
               approved_text: str) -> Markup:
    """One bar: the segments side by side in order; a mark where the approved amount ends, so a bar longer
    than the notice shows how far it goes beyond."""
    shown = [segment for segment in segments if segment.amount > 0]
    total = max(sum((segment.amount for segment in shown), Decimal(0)), approved)
    ident = "burn-" + "".join(c if c.isalnum() else "-" for c in key)
    parts = [Markup('<svg class="chart chart-burn" role="img" aria-label="{title}" aria-describedby="{id}-desc" '
                    'viewBox="0 0 {w} {h}" width="{w}" height="{h}" preserveAspectRatio="xMinYMin meet" '
                    'xmlns="http://www.w3.org/2000/svg"><title id="{id}-title">{title}</title>'
                    '<desc id="{id}-desc">{desc}</desc>')
             .format(id=ident, w=CHART_WIDTH, h=BURN_HEIGHT + MARK_SPACE, title=title, desc=description)]
    x = 0.0
    for segment in shown:
        width = _scale(float(segment.amount), float(total), CHART_WIDTH)
        parts.append(Markup('<rect class="burn-{name}" x="{x}" y="0" width="{w}" height="{h}">'
                            '<title>{text}</title></rect>')
                     .format(name=segment.name, x=round(x, 1), w=width, h=BURN_HEIGHT, text=segment.text))
        x += width
    if not shown:
        parts.append(Markup('<rect class="burn-empty" x="0" y="0" width="{w}" height="{h}"/>')
                     .format(w=CHART_WIDTH, h=BURN_HEIGHT))
    mark = _scale(float(approved), float(total), CHART_WIDTH)
    anchor = "end" if mark > CHART_WIDTH / 2 else "start"
    parts.append(Markup('<line class="burn-approved" x1="{x}" y1="0" x2="{x}" y2="{h}"/>'
                        '<text class="burn-mark" x="{x}" y="{ty}" text-anchor="{anchor}">{text}</text></svg>')
                 .format(x=mark, h=BURN_HEIGHT + 4, ty=BURN_HEIGHT + MARK_SPACE - 2, anchor=anchor,
                         text=approved_text))
    return Markup("").join(parts)

