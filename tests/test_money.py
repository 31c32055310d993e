"""Money: paise in every rule, rupees at the edges; every conversion in services/money."""

from yatri.services.money import amount_text, paise_of, parse_rupees, rupees, rupees_text


def test_rupees_on_screen_group_digits_the_indian_way_and_drop_zero_paise():
    assert rupees(12_345_678) == "₹1,23,456.78"
    assert rupees(1_000_000_000) == "₹1,00,00,000"
    assert rupees(-50) == "-₹0.50"
    assert rupees(0) == "₹0"


def test_every_conversion_round_trips_through_paise():
    for amount in (1, 99, 100, 995_050, 1_234_567_891):
        assert parse_rupees(rupees_text(amount), 100_000_000) == amount
        assert parse_rupees(amount_text(amount), 100_000_000) == amount
        assert parse_rupees(rupees(amount), 100_000_000) == amount
    assert paise_of(9_950) == 995_000
