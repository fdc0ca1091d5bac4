"""BibTeX publication lists: al-folio's papers.bib, LaTeX, names, al-folio link fields,
broken entries; and the hand-written page whose script loads its BibTeX file."""
from __future__ import annotations

import shutil

import pytest

from crawler import loader
from crawler.parsers import Resource, detect_format, parse_bytes, parse_resource
from tests.conftest import f1, load_case, norm
from tests.static_site import serve_folder

REPO = "https://raw.githubusercontent.com/594zyc/594zyc.github.io/cee1152c056aac453ce9bd00d8ac222c80bfabf2/"


@pytest.fixture(scope="module")
def bibtex_1():
    case = load_case("listings", "bibtex-1")
    return case, case.parse()


def test_al_folio_papers_bib_matches_the_labels(bibtex_1):
    case, records = bibtex_1
    assert records.source.format == "bibtex" and records.source.kind == "listing"
    expected = case.expected["publications"]
    assert [norm(p.title) for p in records.publications] == [norm(p["title"]) for p in expected]
    for want, got in zip(expected, records.publications):
        assert got.title == want["title"]  # "{DANLI}: ..." without its protective braces
        assert got.authors == want["authors"]  # "Last, First" -> "First Last", "de la Iglesia, Alex"
        assert (got.venue, got.year) == (want["venue"], want["year"])
        assert got.ids == {k: v for k, v in want["ids"].items() if v}
    assert not records.warnings


def test_al_folio_link_fields_become_typed_links(bibtex_1):
    _, records = bibtex_1
    def by_start(start: str):
        return next(p for p in records.publications if p.title.startswith(start))
    aaai = by_start("Task-oriented dialog")
    assert aaai.links == {"arxiv": "https://arxiv.org/abs/1911.10484",
                          # pdf={aaai20_damd.pdf}: al-folio serves it from the site's assets/pdf/
                          "pdf": REPO + "assets/pdf/aaai20_damd.pdf",
                          "code": "https://github.com/thu-spmi/damd-multiwoz"}
    assert aaai.date == "2020-01"
    acl = by_start("Paraphrase Augmented")
    assert acl.links["paper"] == "https://aclanthology.org/2020.acl-main.60"
    assert acl.links["doi"] == "10.18653/v1/2020.acl-main.60"
    assert acl.links["video"].startswith("https://slideslive.com/")
    groundhog = by_start("GROUNDHOG")
    assert groundhog.links["project"] == "https://groundhog-mllm.github.io/"  # website={...}


def test_accents_markers_and_loose_spacing_in_names():
    case = load_case("homepages", "alfolio-amna-src")
    bib = case.folder / "_bibliography" / "papers.bib"
    records = parse_bytes(bib.as_uri(), bib.read_bytes())
    satbird, harvest, bird = records.publications[:3]
    assert satbird.authors[0] == "Mélisande Teng"  # M{\'e}lisande
    assert satbird.authors[4] == "Hager Radi"  # "Radi,Hager"
    assert harvest.authors[:2] == ["Jonathan Xu", "Amna Elmustafa"]  # "Xu^{*}, Jonathan"
    assert bird.venue == "arXiv preprint arXiv:2305.01079"
    assert bird.ids == {"arxiv": "2305.01079"}  # the arXiv venue names the paper's id


BUILT = r"""---
layout: null
---
@string{ICML = "International Conference on Machine Learning"}

@inproceedings{muller2024,
  title = "{\"U}ber {B}ayesian Caf\'e Methods",
  author = {M{\"u}ller, J{\"o}rg and van der Berg, Jr, Pieter and Ng, Andrew Y. and others},
  booktitle = ICML,
  year = 2024, month = jul,
  eprint = {2401.00001v3}, archivePrefix = {arXiv},
  doi = {https://doi.org/10.1000/ABC.Def},
  html = {https://proceedings.mlr.press/v235/muller24a.html},
  slides = {muller-slides.pdf},
  selected = {true},
}

@article{broken2023,
  title = {A Block Whose Value Never Closes,
  year = {2023}

@misc{solo2022, title = {Only {T}itle and 50{\%} Of It}, author = {Solo, Han}, year = {2022}}
@misc{notitle, author = {Nobody, Al}}
"""


def test_latex_names_macros_and_ids_of_a_written_entry():
    records = parse_bytes("https://example.org/pubs/papers.bib", BUILT.encode())
    muller = records.publications[0]
    assert muller.title == "Über Bayesian Café Methods"
    assert muller.authors == ["Jörg Müller", "Pieter van der Berg Jr", "Andrew Y. Ng"]  # "others" dropped
    assert (muller.venue, muller.year, muller.date) == ("International Conference on Machine Learning", 2024,
                                                        "2024-07")
    assert muller.ids == {"arxiv": "2401.00001", "doi": "10.1000/abc.def"}
    assert muller.links == {"arxiv": "https://arxiv.org/abs/2401.00001",
                            "paper": "https://proceedings.mlr.press/v235/muller24a.html",
                            "slides": "https://example.org/pubs/muller-slides.pdf",  # beside a .bib elsewhere
                            "doi": "https://doi.org/10.1000/ABC.Def"}


def test_a_malformed_entry_is_a_warning_and_the_others_are_read():
    records = parse_bytes("https://example.org/pubs/papers.bib", BUILT.encode())
    assert [p.title for p in records.publications] == ["Über Bayesian Café Methods", "Only Title and 50% Of It"]
    assert any("line 18 skipped: Unexpected block start" in w for w in records.warnings)  # the unclosed @article
    assert any("'notitle' has no title" in w for w in records.warnings)


def test_detection_by_media_type_extension_or_entry_shape():
    body = b"@article{k, title={A Paper}, year={2020}}"
    assert detect_format(Resource("https://example.org/cv/refs.bib", body, "text/plain")).name == "bibtex"
    assert detect_format(Resource("https://example.org/refs", b"\n  " + body, "text/plain")).name == "bibtex"
    assert detect_format(Resource("https://example.org/refs", body, "application/x-bibtex")).name == "bibtex"
    page = b"<html><body><h2>Publications</h2><pre>" + body + b"</pre></body></html>"
    assert detect_format(Resource("https://example.org/", page, "text/html")).name != "bibtex"


# --------------------------------------------------------------------------- a page whose script loads its .bib

def _check_azhou(records, expected) -> None:
    assert records.source.format == "generic"
    assert f1([norm(p["title"]) for p in expected], [norm(p.title) for p in records.publications]) == 1.0
    by_title = {norm(p.title): p for p in records.publications}
    for want in expected:
        got = by_title[norm(want["title"])]
        assert (got.authors, got.venue, got.year) == (want["authors"], want["venue"], want["year"])
        assert got.links["arxiv"] == want["links"]["arxiv"]
        assert got.ids["doi"] == want["links"]["doi"].lower()


def test_script_loaded_bibtex_of_a_checkout_without_its_scripts():
    """The corpus copy has no js/loader.js: the .bib beside the page is read."""
    case = load_case("homepages", "plain-azhou00")
    _check_azhou(case.parse(), case.expected["publications"])


def test_script_loaded_bibtex_over_http_follows_the_script(tmp_path):
    """Served with its script, the page reads the file the script fetches, and no other."""
    case = load_case("homepages", "plain-azhou00")
    shutil.copytree(case.folder, tmp_path, dirs_exist_ok=True)
    (tmp_path / "js").mkdir()
    (tmp_path / "js" / "loader.js").write_text(
        "async function loadPapers() {\n  const response = await fetch('input/papers.bib');\n}\n")
    (tmp_path / "js" / "background.js").write_text("// three.js scene\n")
    (tmp_path / "input" / "old.bib").write_text("@article{old, title={A Draft Nobody Links To}, year={2019}}")
    with serve_folder(tmp_path) as (base, requests):
        records = parse_resource(loader.load_target(base + "index.html"), loader.fetch)
    _check_azhou(records, case.expected["publications"])
    assert "/js/loader.js" in requests and "/input/papers.bib" in requests
    assert "/input/old.bib" not in requests


def test_empty_front_matter_ends_at_its_own_closing_line():
    text = "---\n---\n@misc{a, title={First}, abstract={A list:\n--- one\n--- two}}\n@misc{b, title={Second}}\n"
    records = parse_bytes("https://example.org/_bibliography/papers.bib", text.encode())
    assert [p.title for p in records.publications] == ["First", "Second"]


def test_dates_from_month_names_numbers_and_biblatex_date():
    text = b"""@misc{a, title={A}, year={2020}, month={3}}
@misc{b, title={B}, date={2021-05-04}}
@misc{c, title={C}, year=2019, month=dec}
@misc{d, title={D}, year={2019}, month={13}}"""
    pubs = parse_bytes("https://example.org/p.bib", text).publications
    assert [(p.year, p.date) for p in pubs] == [(2020, "2020-03"), (2021, "2021-05-04"), (2019, "2019-12"), (2019, None)]
