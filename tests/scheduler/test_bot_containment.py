"""Bot containment: the human queue is the bot's overflow."""

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from staffcast.scheduler.requirements import QueueStaffing, compute_requirements


def chat(**kw):
    return QueueStaffing(aht_s=300, channel="chat", concurrency=2, sl_target=0.8,
                         sl_seconds=30, **kw)


def test_containment_95_to_90_doubles_human_volume():
    assert chat(bot_containment=0.95).human_share == pytest.approx(0.05)
    assert chat(bot_containment=0.90).human_share == pytest.approx(0.10)
    # With escalations the bot's hand-backs count: 1 - 0.9 + 0.9 * 0.2 = 0.28.
    assert chat(bot_containment=0.9, bot_escalation=0.2).human_share == pytest.approx(0.28)


@settings(max_examples=200, deadline=None)
@given(c=st.floats(0, 0.99), e=st.floats(0, 1))
def test_human_share_lies_between_none_and_all(c, e):
    share = chat(bot_containment=c, bot_escalation=e).human_share
    assert 1 - c - 1e-12 <= share <= 1 + 1e-12
    assert chat(bot_containment=c, bot_escalation=1.0).human_share == pytest.approx(1.0)


def test_requirements_staff_the_human_share():
    ds = pd.date_range("2026-11-09", periods=6, freq="h")
    volume = pd.DataFrame({"unique_id": "q", "ds": ds, "volume": [400.0, 800, 1200, 0, 50, 5]})
    bot = compute_requirements(volume, {"q": chat(bot_containment=0.6, bot_escalation=0.25)},
                               interval_minutes=60)
    human = compute_requirements(volume.assign(volume=volume["volume"] * 0.55),
                                 {"q": chat()}, interval_minutes=60)
    assert bot["volume"].to_numpy() == pytest.approx(human["volume"].to_numpy())
    assert bot["agents_required"].tolist() == human["agents_required"].tolist()
    assert bot["agents_required"].sum() < compute_requirements(
        volume, {"q": chat()}, interval_minutes=60)["agents_required"].sum()


@pytest.mark.parametrize("kw, message", [
    ({"bot_containment": 1.0}, "bot_containment must be in [0, 1)"),
    ({"bot_containment": -0.1}, "bot_containment must be in [0, 1)"),
    ({"bot_escalation": 1.5}, "bot_escalation must be in [0, 1]"),
])
def test_bad_containment_is_one_line(kw, message):
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("(", r"\(")
                       .replace(")", r"\)")):
        chat(**kw)
