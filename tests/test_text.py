"""Text cleaning: mojibake, dates, authors, decoding."""
import pytest

from crawler.text import clean, decode, normalise_date, split_authors, split_leading_date


@pytest.mark.parametrize("broken, fixed", [
    ("Noah‚Äôs Ark", "Noah’s Ark"),                 # UTF-8 read as MacRoman
    ("\uf8ffüí¨ About Me", "💬 About Me"),            # 4-byte emoji, lead byte as Apple logo
    ("üí¨ About Me", "💬 About Me"),                  # ... and with the lead byte lost
    ("\uf8ffüéâ\uf8ffüéâ Two papers", "🎉🎉 Two papers"),
    ("‚ú® Selected", "✨ Selected"),
    ("P√©rez-R√∫a", "Pérez-Rúa"),
    ("cafÃ© â€œquotedâ€\x9d", "café “quoted”"),      # UTF-8 read as cp1252
])
def test_mojibake_is_repaired(broken, fixed):
    assert clean(broken) == fixed


@pytest.mark.parametrize("text", ["“École —é", "Jan Dubiński", "naïve café ü", "日本語 テキスト"])
def test_correct_text_is_left_alone(text):
    assert clean(text) == text


@pytest.mark.parametrize("written, iso", [
    ("2024.09", "2024-09"), ("[2024/06]", "2024-06"), ("Sep 2024", "2024-09"),
    ("5-2025", "2025-05"), ("14/9/2022", "2022-09-14"), ("Aug 22, 2024", "2024-08-22"),
    ("2024-08-22", "2024-08-22"), ("11/2021", "2021-11"), ("Sept. 2023", "2023-09"),
    ("15 March 2021", "2021-03-15"), ("2023", "2023"), ("no date here", None),
])
def test_dates_normalise_at_written_precision(written, iso):
    assert normalise_date(written) == iso


@pytest.mark.parametrize("item, expected", [
    ("*2024.09*: &nbsp;🎉 We released EMOVA", ("2024.09", "2024-09", "🎉 We released EMOVA")),
    ("[2024/06] Checkout our Video-MME", ("2024/06", "2024-06", "Checkout our Video-MME")),
    ("11/2021: joined Adobe", ("11/2021", "2021-11", "joined Adobe")),
    ("Aug 22, 2024 Gave a talk", ("Aug 22, 2024", "2024-08-22", "Gave a talk")),
    ("2019 was a good year", (None, None, "2019 was a good year")),
    ("11/2021, One paper accepted", ("11/2021", "2021-11", "One paper accepted")),   # academicpages
    ("2019, a good year", (None, None, "2019, a good year")),
    ("[2023/12] :boom:Our paper won", ("2023/12", "2023-12", ":boom:Our paper won")),  # jemoji shortcode
])
def test_leading_date_is_split_off(item, expected):
    written, iso, rest = split_leading_date(clean(item))
    assert (written, iso, rest) == expected


def test_author_markers_are_stripped():
    assert split_authors("Kai Chen*, Yunhao Gou*, Lanqing Hong†, and Hang Xu†") == [
        "Kai Chen", "Yunhao Gou", "Lanqing Hong", "Hang Xu"]
    assert split_authors("Lei Li #, Zhihui Xie #, Mukai Li and Qi Liu, et al.") == [
        "Lei Li", "Zhihui Xie", "Mukai Li", "Qi Liu"]
    assert split_authors("Xiangyan Qu, Chengxuan Qian† (corresponding author), Rui Chen") == [
        "Xiangyan Qu", "Chengxuan Qian", "Rui Chen"]


def test_decode_falls_back_for_non_utf8_bytes():
    assert decode("Gonçalves".encode("cp1252")) == "Gonçalves"
    assert decode("Gonçalves".encode("utf-8")) == "Gonçalves"
    assert decode(b"\xef\xbb\xbfhi") == "hi"
