"""Publication identity: ids first, then guarded fuzzy titles."""
from crawler.identity import canonical_ids, dedupe, match, merge_sources, same_paper
from crawler.records import PageRecords, SourceInfo
from crawler.records import Publication as P

VASWANI = P("Attention Is All You Need", ["Ashish Vaswani", "Noam Shazeer"], year=2017)


def test_negated_title_is_another_paper():
    dong = P("Attention Is Not All You Need", ["Yihe Dong", "Jean-Baptiste Cordonnier"], year=2021)
    assert not same_paper(VASWANI, dong)
    # even with no authors and the same year, the negation keeps them apart
    assert not same_paper(P("Attention Is All You Need", year=2021), P("Attention Is Not All You Need", year=2021))


def test_arxiv_id_beats_title_differences():
    a = P("Deep Residual Learning", ids={"arxiv": "1512.03385"})
    b = P("Deep Residual Learning for Image Recognition", ids={"arxiv": "1512.03385"})
    assert same_paper(a, b)
    assert not same_paper(P("Same title here", ids={"arxiv": "1512.03385"}),
                          P("Same title here", ids={"arxiv": "1706.03762"}))


def test_title_typo_fix_is_the_same_paper():
    fixed = P("Attention Is All You Need", ["Ashish Vaswani"], year=2017)
    typo = P("Atention Is All You Need.", ["A. Vaswani"], year=2017)
    assert same_paper(fixed, typo)


def test_same_title_different_years_apart():
    assert not same_paper(P("Annual Report on Things", year=2019), P("Annual Report on Things", year=2023))


def test_match_pairs_each_paper_once():
    old = [VASWANI, P("Graph Networks for Molecules", ["X Y"], year=2020)]
    new = [P("Graph Networks for Molecules", ["X Y"], year=2020), P("A new paper entirely", year=2025),
           P("Attention is all you need", ["Ashish Vaswani"], year=2017)]
    assert match(old, new) == [(0, 2), (1, 0)]


def test_dedupe_merges_ids_and_links():
    a = P("Attention Is All You Need", ["Ashish Vaswani"], year=2017, links={"code": "https://github.com/x/y"})
    b = P("Attention is all you need", ["Ashish Vaswani"], year=2017, ids={"arxiv": "1706.03762"})
    merged = dedupe([a, b])
    assert len(merged) == 1
    assert merged[0].ids == {"arxiv": "1706.03762"} and merged[0].links == {"code": "https://github.com/x/y"}


# --------------------------------------------------------------------------- cross-source identity

def test_arxiv_version_suffix_and_arxiv_doi_are_one_id():
    a = P("BERT", ids={"arxiv": "1810.04805v2"})
    b = P("BERT: Pre-training of Deep Bidirectional Transformers", ids={"arxiv": "1810.04805"})
    c = P("Bert pretraining", ids={"doi": "10.48550/arXiv.1810.04805"})
    assert same_paper(a, b) and same_paper(b, c) and same_paper(a, c)
    assert canonical_ids(a) == {"arxiv": "1810.04805"}
    assert not same_paper(a, P("BERT", ids={"arxiv": "1810.04806v1"}))


def test_doi_forms_compare_canonical():
    a = P("X", ids={"doi": "https://doi.org/10.1109/ICCE.2012.6161918"})
    b = P("Y", ids={"doi": "10.1109/icce.2012.6161918"})
    assert same_paper(a, b)


def test_preprint_doi_and_journal_doi_fall_back_to_the_title():
    preprint = P("Deep Residual Learning for Image Recognition", ["Kaiming He", "Xiangyu Zhang"], year=2015,
                 ids={"doi": "10.48550/arxiv.1512.03385"})
    published = P("Deep residual learning for image recognition", ["K He", "X Zhang"], year=2016,
                  ids={"doi": "10.1109/cvpr.2016.90"})
    assert same_paper(preprint, published)


def test_near_duplicate_titles_with_sequel_numbers_are_different_papers():
    one = P("Qwen-Image Technical Report", ["Chenfei Wu", "Jiahao Li"], year=2025)
    two = P("Qwen-Image-2.0 Technical Report", ["Bing Zhao", "Chenfei Wu", "Deqing Li"], year=2025)
    assert not same_paper(one, two)
    part1 = P("State evolution beyond first-order methods I", ["Michael Celentano", "Chen Cheng"], year=2025)
    part2 = P("State evolution beyond first-order methods II", ["Michael Celentano", "Chen Cheng"], year=2025)
    assert not same_paper(part1, part2)


def test_same_title_by_another_person_of_the_same_name_stays_apart():
    """An aggregator listing mixes people named "Chen Cheng": a shared name and a generic
    title are not enough when the co-authors and the years disagree."""
    statistician = P("Editorial: Learning with noisy labels", ["Chen Cheng", "John Duchi"], year=2019)
    chemist = P("Editorial: Learning with noisy labels", ["Chen Cheng", "Wei Zhang", "Li Wang"], year=2024)
    assert not same_paper(statistician, chemist)


def test_preprint_and_publication_years_apart_merge_on_exact_title_and_authors():
    preprint = P("Memorize to Generalize: on the Necessity of Interpolation", ["Chen Cheng", "John Duchi"], year=2022)
    journal = P("Memorize to generalize: On the necessity of interpolation", ["C Cheng", "J Duchi"], year=2024)
    assert same_paper(preprint, journal)
    assert not same_paper(preprint, P(journal.title, [], year=2024))  # no author evidence: years decide


def _source(fmt, *pubs):
    return PageRecords(source=SourceInfo(f"https://{fmt}.example/", "listing", fmt), publications=list(pubs))


def test_merge_sources_gives_one_publication_per_paper_with_every_id_and_link():
    arxiv = _source("arxiv", P("Attention Is All You Need", ["Ashish Vaswani", "Noam Shazeer"], venue=None, year=2017,
                               ids={"arxiv": "1706.03762"}, links={"arxiv": "https://arxiv.org/abs/1706.03762"}))
    dblp = _source("dblp", P("Attention is All you Need", ["Ashish Vaswani", "Noam Shazeer"], venue="NIPS", year=2017,
                             ids={"dblp": "conf/nips/VaswaniSPUJGKP17"},
                             links={"paper": "https://proceedings.neurips.cc/paper/7181"}),
                   P("Attention Is Not All You Need", ["Yihe Dong"], year=2021, ids={"dblp": "conf/icml/DongCL21"}))
    s2 = _source("semanticscholar", P("Attention is All you Need", ["Ashish Vaswani"], venue="Neural Information "
                                      "Processing Systems", year=2017,
                                      ids={"arxiv": "1706.03762v5", "s2": "204e3073870fae3d05bcbc2f6a8e263d9b72e776"}))
    merged = merge_sources([arxiv, dblp, s2])
    assert [p.title for p in merged] == ["Attention Is All You Need", "Attention Is Not All You Need"]
    paper = merged[0]
    assert paper.ids == {"arxiv": "1706.03762", "dblp": "conf/nips/VaswaniSPUJGKP17",
                         "s2": "204e3073870fae3d05bcbc2f6a8e263d9b72e776"}
    assert set(paper.links) == {"arxiv", "paper"} and paper.venue == "NIPS"
    assert arxiv.publications[0].ids == {"arxiv": "1706.03762"}  # the sources' records are untouched


def test_merge_sources_keeps_listing_duplicates_with_distinct_ids():
    s2 = _source("semanticscholar", P("Same title", ["A B"], year=2020, ids={"s2": "a1"}),
                 P("Same title", ["A B"], year=2020, ids={"s2": "b2"}))
    assert len(merge_sources([s2])) == 2


def test_merge_sources_on_corpus_openalex_and_orcid_of_one_researcher(case):
    openalex, orcid = case("listings", "openalex-1").parse(), case("listings", "orcid-1").parse()
    merged = merge_sources([openalex, orcid])
    both = [p for p in merged if "openalex" in p.ids and "page" in p.links]  # ORCID gave the page link
    assert len(openalex.publications) < len(merged) < len(openalex.publications) + len(orcid.publications)
    assert len(both) >= 30
    dois = [p.ids["doi"] for p in merged if "doi" in p.ids]
    assert len(dois) == len(set(dois))  # no paper twice under one DOI
