"""Money is an exact Decimal with two places; `money()` is the one place amounts are quantized."""

from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
MAX_AMOUNT = Decimal("99999999.99")


def money(value: Decimal | int | str | float) -> Decimal:
    """Quantize an amount to cents. Floats go through `str` so 0.1 stays 0.10, not 0.1000000000000000055."""
    if isinstance(value, float):
        value = str(value)
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)
