"""Charts as inline SVG, drawn on the server: no script, no external file, readable without colour."""

from markupsafe import Markup, escape

BAR_WIDTH = 200
BAR_HEIGHT = 14


def progress_bar(required: int, present: int, verified: int, label: str, width: int = BAR_WIDTH) -> Markup:
    """A horizontal bar: verified over present over required; label is read out by screen readers."""
    def share(count: int) -> int:
        return round(width * min(count, required) / required) if required else 0

    return Markup(
        '<svg class="progress" role="img" width="{w}" height="{h}" viewBox="0 0 {w} {h}" '
        'xmlns="http://www.w3.org/2000/svg"><title>{label}</title>'
        '<rect class="progress-required" x="0" y="0" width="{w}" height="{h}" rx="3"/>'
        '<rect class="progress-present" x="0" y="0" width="{present}" height="{h}" rx="3"/>'
        '<rect class="progress-verified" x="0" y="0" width="{verified}" height="{h}" rx="3"/></svg>'
    ).format(w=width, h=BAR_HEIGHT, label=escape(label), present=share(present), verified=share(verified))
