"""Small text helpers shared by intake and classification."""

import re

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LATIN = re.compile(r"[A-Za-z]")


def detect_language(text: str) -> str:
    """'zh' or 'en' for a shopper's text.

    One Chinese character carries about as much as a short English word, so a text is Chinese
    when its Chinese characters outweigh a third of its Latin letters ("iPhone 屏幕碎了" is zh).
    """
    cjk = len(_CJK.findall(text))
    latin = len(_LATIN.findall(text))
    return "zh" if cjk and cjk * 3 >= latin else "en"
