"""Publication identity: ids first, then guarded fuzzy titles."""
from crawler.identity import dedupe, match, same_paper
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
