"""Pre-identification signals, found before any agent reads the ticket.

Text signals come from curated phrase lists (Chinese and English); repeat contact and high
value come from the shopper's history and the order. Each signal adds to the ticket's
priority; some demand a person (routing hands those off at once).
"""

import re
from dataclasses import dataclass
from decimal import Decimal

ASKS_FOR_HUMAN = "asks_for_human"
NEGATIVE = "negative_sentiment"
SENSITIVE = "sensitive"
REPEAT_CONTACT = "repeat_contact"
HIGH_VALUE = "high_value"
FRESH_GUARANTEE = "fresh_guarantee"  # "rotten = refunded" claim on fresh food or flowers

# The one table of what each signal is worth, and which ones demand a person.
PRIORITY_WEIGHTS: dict[str, int] = {
    ASKS_FOR_HUMAN: 30,
    SENSITIVE: 30,
    NEGATIVE: 15,
    REPEAT_CONTACT: 15,
    HIGH_VALUE: 10,
    FRESH_GUARANTEE: 10,
}
DEMANDS_A_PERSON = frozenset({ASKS_FOR_HUMAN, SENSITIVE})
FRESH_CATEGORIES = frozenset({"fresh_food", "flowers"})


_ASCII_LETTER = re.compile(r"[A-Za-z]")
_CJK_CHAR = re.compile(r"[\u3400-\u9fff]")


class _Lexicon:
    """Phrase patterns split by script: Chinese (and symbol) patterns run on the raw text; English
    ones run on the lower-cased text, and only when it has Latin letters. Two small alternations
    without IGNORECASE match several times faster than one big case-insensitive one."""

    def __init__(self, patterns: tuple[str, ...]) -> None:
        chinese = [p for p in patterns if _CJK_CHAR.search(p) or not _ASCII_LETTER.search(p.replace("\\", ""))]
        english = [p for p in patterns if p not in chinese]
        self.chinese = re.compile("|".join(f"(?:{p})" for p in chinese)) if chinese else None
        self.english = re.compile("|".join(f"(?:{p})" for p in english)) if english else None

    def search(self, text: str, lowered: str | None = None) -> bool:
        if self.chinese is not None and self.chinese.search(text):
            return True
        if self.english is None:
            return False
        lowered = text.lower() if lowered is None else lowered
        return bool(_ASCII_LETTER.search(lowered)) and bool(self.english.search(lowered))


def _compile(*patterns: str) -> _Lexicon:
    return _Lexicon(patterns)


_HUMAN = _compile(
    r"转人工",
    r"人工客服",
    r"人工服务",
    r"接人工",
    r"找人工",
    r"要人工",
    r"人工[!！。，,\s]*$",
    r"^[\s\W]*人工",
    r"真人",
    r"活人",
    r"找客服",
    r"客服出来",
    r"叫.{0,4}客服",
    r"不想(跟|和)机器人",
    r"别让机器人",
    r"(real|live|actual) (person|human|agent|people)",
    r"\bhuman (being|agent|please)\b",
    r"\b(talk|speak|chat) (to|with) (a |an |some |your )?(human|person|agent|rep|representative|someone|manager|supervisor|operator)",
    r"\b(want|need|get me|give me|connect me to|transfer me to) (a |an |to a |to an )?(human|person|agent|representative|rep|manager|supervisor|operator)\b",
    r"\bagent,? please\b",
    r"\bnot (a|another) (bot|robot|chatbot)\b",
    r"\bstop (the )?(bot|robot)\b",
)

_NEGATIVE = _compile(
    r"气死",
    r"生气",
    r"愤怒",
    r"火大",
    r"垃圾",
    r"骗子",
    r"骗人",
    r"坑人",
    r"太坑",
    r"投诉",
    r"差评",
    r"无语",
    r"失望",
    r"恶心",
    r"离谱",
    r"忍无可忍",
    r"太过分",
    r"什么态度",
    r"什么破",
    r"12315",
    r"曝光",
    r"消协",
    r"欺诈",
    r"再也不",
    r"烂透",
    r"处理个鬼",
    r"\bangry\b",
    r"\bfurious\b",
    r"\bterrible\b",
    r"\bhorrible\b",
    r"\bawful\b",
    r"\bworst\b",
    r"\bscam\w*",
    r"\bfraud\w*",
    r"\bridiculous\b",
    r"\bunacceptable\b",
    r"\bdisgust\w*",
    r"\bdisappoint\w*",
    r"\bpathetic\b",
    r"\bfed up\b",
    r"\bwtf\b",
    r"\bnever (again|buying|shop)\b",
    r"\bchargeback\b",
    r"\b(bbb|better business bureau)\b",
    r"\breport(ing)? you\b",
    r"\blawyer\b",
    r"\bsue you\b",
    r"\bbad review\b",
    r"\b1[- ]star\b",
    r"!{3,}",
)

_SENSITIVE = _compile(
    # intimate and personal products
    r"情趣",
    r"成人用品",
    r"避孕",
    r"验孕",
    r"安全套",
    r"私处",
    r"私密",
    r"痔疮",
    r"卫生巾",
    r"内衣.{0,6}(尺寸|罩杯)",
    r"\bcondom",
    r"\bsex toy",
    r"\bvibrator",
    r"\blubricant\b",
    r"\bpregnancy test",
    r"\bintimate\b",
    r"\bincontinence\b",
    r"\bdiscreet (packaging|shipping|box)",
    # health
    r"住院",
    r"医院",
    r"急诊",
    r"看医生",
    r"过敏.{0,6}(严重|肿|呼吸|医院)",
    r"流产",
    r"中毒",
    r"食物中毒",
    r"\bhospital",
    r"\bemergency room\b",
    r"\bdoctor\b",
    r"\bpoison\w*",
    r"\bfood poisoning\b",
    r"\bmiscarriage\b",
    r"\bchemo\w*",
    r"\bcancer\b",
    r"\ballergic reaction\b",
    r"\banaphyla\w*",
    # privacy
    r"隐私",
    r"泄露",
    r"个人信息",
    r"骚扰电话",
    r"\bprivacy\b",
    r"\bdata (leak|breach)\b",
    r"\bpersonal (data|information|info)\b",
    r"\bharass\w*",
    # distress and grief
    r"不想活",
    r"自杀",
    r"抑郁",
    r"去世",
    r"葬礼",
    r"\bsuicid\w*",
    r"\bdepress\w*",
    r"\bpassed away\b",
    r"\bfuneral\b",
)


@dataclass(frozen=True)
class SignalContext:
    """What is known besides the text: the order and the shopper's recent history."""

    category: str = ""
    intent: str = ""
    order_amount: Decimal | float | None = None
    high_value_threshold: float | None = None
    recent_inquiries: int = 0  # by the same shopper in the repeat window, this one included


def text_signals(text: str) -> list[str]:
    lowered = text.lower()
    found = []
    if _HUMAN.search(text, lowered):
        found.append(ASKS_FOR_HUMAN)
    if _NEGATIVE.search(text, lowered) or _shouting(text):
        found.append(NEGATIVE)
    if _SENSITIVE.search(text, lowered):
        found.append(SENSITIVE)
    return found


def _shouting(text: str) -> bool:
    letters = [ch for ch in text if ch.isascii() and ch.isalpha()]
    return len(letters) >= 20 and sum(ch.isupper() for ch in letters) / len(letters) > 0.8


def detect_signals(text: str, context: SignalContext) -> list[str]:
    found = text_signals(text)
    if context.recent_inquiries >= 2:
        found.append(REPEAT_CONTACT)
    if (
        context.order_amount is not None
        and context.high_value_threshold is not None
        and float(context.order_amount) > context.high_value_threshold
    ):
        found.append(HIGH_VALUE)
    if context.category in FRESH_CATEGORIES and context.intent in ("quality_damage", "refund_return"):
        found.append(FRESH_GUARANTEE)
    return found


def priority_for(signals: list[str]) -> int:
    return sum(PRIORITY_WEIGHTS.get(signal, 0) for signal in signals)


def demands_a_person(signals: list[str]) -> bool:
    return any(signal in DEMANDS_A_PERSON for signal in signals)
