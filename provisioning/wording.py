"""Figures in sentences: euros, shares and dates the German and the English way, for findings and reports."""

from datetime import date
from decimal import Decimal

from .programmes import Window


def counted(count: int, one: str, many: str) -> str:
    """'1 Gerät', '3 Geräte'."""
    return f"{count} {one if count == 1 else many}"


def eur_de(amount: Decimal) -> str:
    """'25.000,00 €'."""
    return f"{amount:,.2f}".translate(str.maketrans(",.", ".,")) + " €"


def eur_en(amount: Decimal) -> str:
    """'€25,000.00'."""
    return f"€{amount:,.2f}"


def pct_en(share: Decimal) -> str:
    """0.2 → '20 %', 0.2345 → '23.45 %'."""
    return f"{share * 100:.2f}".rstrip("0").rstrip(".") + " %"


def pct_de(share: Decimal) -> str:
    """0.2345 → '23,45 %'."""
    return pct_en(share).replace(".", ",")


def day_de(day: date) -> str:
    """'31.12.2024'."""
    return f"{day:%d.%m.%Y}"


def span_de(window: Window) -> str:
    """'17.05.2019 – 31.12.2024', 'ab 03.07.2020' or 'bis 31.12.2024'."""
    if window.start and window.end:
        return f"{day_de(window.start)} – {day_de(window.end)}"
    return f"ab {day_de(window.start)}" if window.start else f"bis {day_de(window.end)}"


def span_en(window: Window) -> str:
    """'2019-05-17 – 2024-12-31', 'from 2020-07-03' or 'until 2024-12-31'."""
    if window.start and window.end:
        return f"{window.start} – {window.end}"
    return f"from {window.start}" if window.start else f"until {window.end}"
