"""The classifier: order first, then the text model; intent and signals; the CLI and the API."""

import io
import json
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from classification import textmodel
from classification.services import classify_text
from classification.signals import (
    ASKS_FOR_HUMAN,
    FRESH_GUARANTEE,
    HIGH_VALUE,
    NEGATIVE,
    SENSITIVE,
    demands_a_person,
    text_signals,
)

CLEAR_CASES = [
    ("我的金项链扣子断了，想换一条", "jewelry"),
    ("宝宝纸尿裤红屁股了，能退吗", "maternal_baby"),
    ("车厘子收到一半都烂了", "fresh_food"),
    ("送女朋友的玫瑰花束蔫了", "flowers"),
    ("这款精华液敏感肌能用吗", "beauty"),
    ("羽绒服尺码偏大，想换小一码", "apparel"),
    ("新买的手机屏幕一直闪", "electronics"),
    ("这本小说缺了二十页", "books"),
    ("不粘锅用了一周就掉涂层", "home"),
    ("The diamond earrings I ordered came without the GIA certificate", "jewelry"),
    ("The stroller wheel snapped off on our first walk", "maternal_baby"),
    ("half the strawberries were moldy when the box arrived", "fresh_food"),
    ("The tulips for my mom arrived wilted and brown", "flowers"),
    ("This foundation shade is way darker than the swatch", "beauty"),
    ("the jeans run small, can I exchange for a 32 waist", "apparel"),
    ("My new laptop won't charge past 80 percent", "electronics"),
    ("The hardcover edition is missing the last chapter", "books"),
    ("The nonstick skillet handle came loose after a week", "home"),
    ("The yoga mat smells like chemicals", "other"),
]


@pytest.mark.parametrize(("text", "expected"), CLEAR_CASES)
def test_clear_inquiries_get_their_category(text: str, expected: str) -> None:
    assert classify_text(text=text).category == expected


def test_a_known_order_category_wins_over_the_text() -> None:
    result = classify_text(text="戒指尺寸不对", order_category="electronics")
    assert (result.category, result.method, result.confidence) == ("electronics", "order", 1.0)


def test_an_unknown_order_category_falls_back_to_the_model() -> None:
    result = classify_text(text="戒指尺寸不对", order_category="spaceships")
    assert result.method == "model" and result.category == "jewelry"


def test_a_text_with_no_product_in_it_is_flagged_for_an_agent() -> None:
    assert classify_text(text="在吗").needs_category


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("我要退货退款", "refund_return"),
        ("快递三天了还没到，物流也不更新", "delivery"),
        ("I want my money back for these sneakers, please process a refund", "refund_return"),
        ("where is my package? tracking hasn't moved in a week", "delivery"),
    ],
)
def test_intent(text: str, intent: str) -> None:
    assert classify_text(text=text).intent == intent


@pytest.mark.parametrize(
    ("text", "signal"),
    [
        ("转人工", ASKS_FOR_HUMAN),
        ("人工客服在哪，我要找客服", ASKS_FOR_HUMAN),
        ("I want to talk to a real person", ASKS_FOR_HUMAN),
        ("agent please", ASKS_FOR_HUMAN),
        ("什么破服务，气死我了，我要投诉", NEGATIVE),
        ("This is the worst service, totally unacceptable", NEGATIVE),
        ("WHERE IS MY ORDER I HAVE BEEN WAITING FOR WEEKS", NEGATIVE),
        ("请用不透明的包装，是成人用品", SENSITIVE),
        ("My daughter ended up in the hospital after eating it", SENSITIVE),
        ("我的个人信息被泄露了，一直接到骚扰电话", SENSITIVE),
    ],
)
def test_text_signals(text: str, signal: str) -> None:
    assert signal in text_signals(text)


def test_calm_ordinary_text_raises_no_signal() -> None:
    assert text_signals("请问这个戒指可以刻字吗") == []
    assert text_signals("Can I get this necklace engraved?") == []


def test_high_value_and_fresh_guarantee_signals() -> None:
    result = classify_text(text="车厘子全烂了，坏果包赔吧", order_category="fresh_food", order_amount=5000)
    assert HIGH_VALUE in result.signals and FRESH_GUARANTEE in result.signals
    assert not demands_a_person(result.signals)
    assert demands_a_person([ASKS_FOR_HUMAN])


def run_classify(stdin: str) -> list[dict]:
    out = io.StringIO()
    old_stdin, old_stdout = sys.stdin, sys.stdout
    sys.stdin, sys.stdout = io.StringIO(stdin), out
    try:
        call_command("classify")
    finally:
        sys.stdin, sys.stdout = old_stdin, old_stdout
    return [json.loads(line) for line in out.getvalue().splitlines()]


def test_the_classify_command_answers_every_line_in_order_errors_included() -> None:
    lines = [
        json.dumps({"text": "口红断了", "language": "zh"}, ensure_ascii=False),
        "this is not json",
        json.dumps({"language": "en"}),
        json.dumps({"text": "x" * 5001}),
        json.dumps({"text": "my ring", "order": {"product_category": "books", "amount": 10}}),
        json.dumps({"text": "ok", "order": {"amount": -5}}),
    ]
    results = run_classify("\n".join(lines) + "\n")

    assert len(results) == 6
    assert results[0]["category"] == "beauty" and set(results[0]) >= {
        "category",
        "confidence",
        "intent",
        "signals",
        "method",
    }
    assert "error" in results[1] and "JSON" in results[1]["error"]
    assert "text" in results[2]["error"]
    assert "longer" in results[3]["error"]
    assert results[4]["method"] == "order" and results[4]["category"] == "books"
    assert "negative" in results[5]["error"]


@pytest.mark.django_db
def test_the_classify_api(storefront_client: APIClient) -> None:
    ok = storefront_client.post("/api/v1/classify/", {"text": "纸尿裤漏了"}, format="json")
    assert ok.status_code == 200 and ok.data["category"] == "maternal_baby"
    assert storefront_client.post("/api/v1/classify/", {"text": ""}, format="json").status_code == 400
    assert APIClient().post("/api/v1/classify/", {"text": "x"}, format="json").status_code == 401


def test_training_is_deterministic(tmp_path: Path) -> None:
    examples = textmodel.load_examples()[::50]  # a small sample of every category: determinism, not quality
    assert {e.category for e in examples} == {e.category for e in textmodel.load_examples()}
    first, second = textmodel.train(examples), textmodel.train(examples)
    assert first.version == second.version
    texts = ["戒指", "stroller", "口红色号", "pan"]
    assert first.predict(texts) == second.predict(texts)


def test_the_holdout_is_stable_and_disjoint_from_training() -> None:
    examples = textmodel.load_examples()
    train, holdout = textmodel.split_holdout(examples)
    assert not {e.text for e in train} & {e.text for e in holdout}
    _, reshuffled = textmodel.split_holdout(list(reversed(examples)))
    assert {e.text for e in reshuffled} == {e.text for e in holdout}  # input order does not matter
    assert all(not e.is_lexicon for e in holdout)


def test_evaluate_classifier_reports_scores_on_a_csv(tmp_path: Path) -> None:
    path = tmp_path / "labelled.csv"
    path.write_text("text,category,lang\n戒指断了,jewelry,zh\nstroller broke,maternal_baby,en\n", encoding="utf-8")
    out = io.StringIO()
    call_command("evaluate_classifier", "--csv", str(path), stdout=out)
    assert "macro-F1" in out.getvalue()
    missing = tmp_path / "none.csv"
    with pytest.raises(Exception, match="No such file"):
        call_command("evaluate_classifier", "--csv", str(missing))


def test_the_fast_single_path_scores_exactly_like_the_vectorized_one() -> None:
    from classification.services import get_model

    model = get_model()
    texts = ["戒指尺寸偏大", "The stroller wheel snapped", "在吗", "iPhone 屏幕碎了！！", "zzzz qqqq"]
    for text, batch in zip(texts, model.predict(texts), strict=True):
        single = model.predict_one(text)
        assert single[0] == batch[0] and single[2] == batch[2]
        assert single[1] == pytest.approx(batch[1], abs=1e-5)
        assert single[3] == pytest.approx(batch[3], abs=1e-5)
