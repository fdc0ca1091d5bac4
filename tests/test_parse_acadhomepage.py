"""AcadHomepage: about.md with include_relative files, every paper shape, built pages, HTTP."""
from __future__ import annotations

import functools
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from crawler import loader
from crawler.parsers import detect_format, parse_resource
from tests.conftest import load_case, norm

FIXTURES = Path(__file__).parent / "fixtures" / "jekyll"


def _by_title(records):
    return {norm(p.title): p for p in records.publications}


def _assert_papers_match(records, expected):
    """Every labelled paper is found once, with the labelled authors, venue, year, links."""
    assert sorted(norm(p.title) for p in records.publications) == sorted(norm(p["title"]) for p in expected)
    got = _by_title(records)
    for want in expected:
        pub = got[norm(want["title"])]
        assert pub.authors == want["authors"], want["title"]
        assert (pub.venue, pub.year) == (want["venue"], want["year"]), want["title"]
        assert pub.links == want["links"], want["title"]


def _assert_news_match(records, expected):
    assert [(n.date, n.date_iso, n.text) for n in records.news] == [
        (n["date"], n["date_iso"], n["text"]) for n in expected]


@pytest.mark.parametrize("name", ["acad-caraj7", "acad-ddz16"])
def test_include_relative_files_are_followed_for_news_and_papers(name):
    case = load_case("homepages", name)
    records = case.parse()
    assert records.source.format == "acadhomepage"
    _assert_papers_match(records, case.expected["publications"])
    _assert_news_match(records, case.expected["news"])
    # the person is the author block of _config.yml at the site root, one folder up
    assert (records.profile.name, records.profile.email) == (case.expected["profile"]["name"],
                                                             case.expected["profile"]["email"])


def test_list_items_keep_tag_venues_and_drop_author_markers():
    records = load_case("homepages", "acad-caraj7").parse()
    got = _by_title(records)
    blink = got[norm("BLINK-Twice: You see, but do you observe? A Reasoning Benchmark on Visual Perception")]
    assert blink.venue == "NeurIPS 2025 D&B Track" and blink.year == 2025
    draco = got[norm("DraCo: Draft as CoT for Text-to-Image Preview and Rare Concept Generation")]
    assert (draco.venue, draco.year, draco.ids) == ("Arxiv", None, {"arxiv": "2512.05112"})
    assert draco.authors[0] == "Dongzhi Jiang"  # bold self-name, '\*' markers gone
    # the Projects section lists a toolkit with an author list: not a publication
    assert not any("UlmEvalkit" in p.title for p in records.publications)


def test_seed_000_bold_title_paragraphs_and_mojibake():
    case = load_case("seeds", "000_203d92249cbc4146")
    records = case.parse()
    assert records.source.format == "acadhomepage"
    _assert_papers_match(records, case.expected["publications"])
    _assert_news_match(records, case.expected["news"])
    emova = records.publications[0]
    assert emova.ids == {"arxiv": "2409.18042"} and len(emova.authors) == 30
    assert not any("•" in p.title or "‚Ä" in p.title for p in records.publications)
    assert records.news[0].text.startswith("🎉🎉 We have released EMOVA")  # MacRoman mojibake repaired
    assert (records.profile.position, records.profile.affiliation) == ("senior researcher", "Huawei Noah’s Ark Lab")
    assert records.profile.links == {}  # links in the text point to interns and projects, not the person


def test_seed_003_apa_references_without_title_markup():
    case = load_case("seeds", "003_4d4d2b3d654a7ddc")
    records = case.parse()
    _assert_papers_match(records, case.expected["publications"])
    _assert_news_match(records, case.expected["news"])
    got = _by_title(records)
    lazy = got[norm("Lazy Layers to Make Fine-Tuned Diffusion Models More Traceable")]
    assert (lazy.venue, lazy.year) == ("Techinical Report", None)  # the author's typo, no year written
    mindstorms = got[norm("Mindstorms in Natural Language-Based Societies of Mind")]
    assert "Csordás, R." in mindstorms.authors and mindstorms.year == 2023
    assert got[norm("Decoupled Mixup for Out-of-Distribution Visual Recognition")].venue == "ECCV’2022 Workshop"
    assert records.profile.email == "haozhe.liu@kaust.edu.sa"  # written `haozhe.liu[at]kaust.edu.sa`


PAPER_BOX_ABOUT = """---
permalink: /
author_profile: true
---

<span class='anchor' id='about-me'></span>

{% include_relative includes/pub.md %}
"""

PAPER_BOX_PUB = """# 📝 Publications

## 🎙 Singing Voice Synthesis
<div class='paper-box'><div class='paper-box-image'><div><div class="badge">AAAI 2024</div><img src='images/stylesinger.png' alt="sym" width="100%"></div></div>
<div class='paper-box-text' markdown="1">

[StyleSinger: Style Transfer for Out-of-Domain Singing Voice Synthesis](https://ojs.aaai.org/index.php/AAAI/article/view/29932) \\\\
**Yu Zhang**, Rongjie Huang, Ruiqi Li, et al.

[![](https://img.shields.io/github/stars/AaronZ345/StyleSinger?style=social&label=Stars)](https://github.com/AaronZ345/StyleSinger) | [**Demo**](https://stylesinger.github.io) | <strong><span class='show_paper_citations' data='DkA9A6LsAAAAJ:u5HHmVD_uO8C'></span></strong>

- StyleSinger is the first singing voice synthesis model for zero-shot style transfer of out-of-domain reference samples.
</div>
</div>

<div class='paper-box'><div class='paper-box-image'><div><div class="badge">Preprint 2024</div><img src='images/rag.png' alt="sym" width="100%"></div></div>
<div class='paper-box-text' markdown="1">

[Simple is Effective: The Roles of Graphs and LLMs in KG-Based Retrieval-Augmented Generation](https://arxiv.org/pdf/2410.20724) \\\\
Mufei Li\\*, <u><strong>Siqi Miao*</strong></u>, Pan Li. **Preprint 2024**\\\\
(\\*Equal contribution)

</div>
</div>

## Multimodal LLMs Post-Training

<div class='paper-box'><div class='paper-box-image'><div><div class="badge">Preprint</div><img src='images/star.png' alt="sym" width="100%"></div></div>
<div class='paper-box-text' markdown="1">

[Video-STAR: Reinforcing Open-Vocabulary Action Recognition with Tools](https://arxiv.org/abs/2510.08480)

**Preprint**

Zhenlong Yuan, Xiangyan Qu, **Chengxuan Qian**<sup>†</sup> (corresponding author), [Yiwei Wang](https://github.com/wangywust)

</div>
</div>

<div class='paper-box no-image'><div class='paper-box-text' markdown="1">

<span class="venue-badge">IEEE T-TE 2026</span>

[Real-time Balancing Control of Reconfigurable Battery Packs using Reinforcement Learning](https://ieeexplore.ieee.org/abstract/document/11475906)

**Ali Irshayyid**, Wanqun Yang, and Jun Chen

*IEEE Transactions on Transportation Electrification*, vol. 12, no. 4, pp. 7013–7024, Aug. 2026

- Trained an RL balancing controller in a fast surrogate environment.
</div>
</div>
"""


def test_paper_boxes_from_the_template(tmp_path):
    (tmp_path / "_config.yml").write_text('author:\n  name: "Yu Zhang"\n  email: "yu@example.org"\n')
    (tmp_path / "_pages" / "includes").mkdir(parents=True)
    (tmp_path / "_pages" / "about.md").write_text(PAPER_BOX_ABOUT)
    (tmp_path / "_pages" / "includes" / "pub.md").write_text(PAPER_BOX_PUB)
    records = parse_resource(loader.load_target(str(tmp_path / "_pages" / "about.md")), loader.fetch,
                             base_url="https://someone.github.io/")
    assert records.source.format == "acadhomepage"
    singer, rag, star, battery = records.publications
    assert (singer.title, singer.venue, singer.year) == (
        "StyleSinger: Style Transfer for Out-of-Domain Singing Voice Synthesis", "AAAI 2024", 2024)
    assert singer.authors == ["Yu Zhang", "Rongjie Huang", "Ruiqi Li"]  # "et al." dropped
    assert singer.links == {"paper": "https://ojs.aaai.org/index.php/AAAI/article/view/29932",
                            "code": "https://github.com/AaronZ345/StyleSinger",
                            "demo": "https://stylesinger.github.io"}
    assert singer.ids == {"scholar": "DkA9A6LsAAAAJ:u5HHmVD_uO8C"}  # Scholar's citation_for_view id
    assert rag.authors == ["Mufei Li", "Siqi Miao", "Pan Li"]  # the bold venue after them is not a name
    assert (rag.venue, rag.year, rag.ids) == ("Preprint 2024", 2024, {"arxiv": "2410.20724"})
    # a bold venue line between title and authors; "Post-Training" is a topic, not a Posts section
    assert (star.venue, star.authors) == ("Preprint", ["Zhenlong Yuan", "Xiangyan Qu", "Chengxuan Qian", "Yiwei Wang"])
    assert star.links == {"arxiv": "https://arxiv.org/abs/2510.08480"}  # a co-author's GitHub is not the code
    assert (battery.venue, battery.year, battery.authors) == ("IEEE T-TE 2026", 2026, ["Ali Irshayyid", "Wanqun Yang",
                                                                                        "Jun Chen"])
    assert records.profile.name == "Yu Zhang"


def test_built_page_reads_content_and_sidebar():
    entry = loader.load_target(str(FIXTURES / "acadhomepage-built" / "index.html"))
    assert detect_format(entry).name == "acadhomepage"
    records = parse_resource(entry, loader.fetch, base_url="https://ddz16.github.io/")
    assert [(n.date_iso, n.text) for n in records.news] == [
        ("2024-07", "🎉 One paper is accepted by ESWA"), ("2023-04", "🎉 One paper is accepted by IJCAI 2023")]
    box, listed = records.publications  # the Honors list, also dated, is neither news nor papers
    assert (box.venue, box.authors[-1], box.ids["scholar"]) == ("ESWA 2024", "Fuchun Sun", "Jh3kDkcAAAAJ:u5HHmVD_uO8C")
    assert box.links["code"] == "https://github.com/ddz16/UIEDP" and box.ids["arxiv"] == "2312.06240"
    assert (listed.venue, listed.links["pdf"]) == ("IJCAI 2023", "https://www.ijcai.org/proceedings/2023/0077.pdf")
    profile = records.profile
    assert (profile.name, profile.email) == ("Dazhao Du", "dudazhao16@gmail.com")
    assert profile.links == {"github": "https://github.com/ddz16", "orcid": "https://orcid.org/0000-0001-6230-4526"}


@pytest.fixture
def serve():
    """Serve a folder on a real 127.0.0.1 server; yields its base URL."""
    servers = []

    def start(folder: Path) -> str:
        handler = functools.partial(_QuietHandler, directory=str(folder))
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}/"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - http.server's signature
        pass


def test_include_relative_files_are_fetched_over_http(serve):
    case = load_case("homepages", "acad-ddz16")
    base = serve(case.folder)
    records = parse_resource(loader.load_target(base + "_pages/about.md"), loader.fetch, base_url=case.url)
    assert records.source.format == "acadhomepage"
    _assert_papers_match(records, case.expected["publications"])
    _assert_news_match(records, case.expected["news"])
    assert records.profile.email == "dudazhao16@gmail.com"  # _config.yml one folder above _pages/
