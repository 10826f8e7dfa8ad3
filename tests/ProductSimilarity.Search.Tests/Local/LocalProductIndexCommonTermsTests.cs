using ProductSimilarity.Core.Indexing;
using ProductSimilarity.Core.Ranking;
using ProductSimilarity.Search.Local;
using static ProductSimilarity.Search.Tests.Local.LocalIndexTestData;

namespace ProductSimilarity.Search.Tests.Local;

/// <summary>
/// <see cref="LocalProductIndexOptions.CommonTermFraction"/>: a term in most documents ("model" in every title here) no
/// longer makes every product a keyword candidate; products that match a rarer term score exactly as with the plain
/// query, and a list that the rarer terms cannot fill is filled by the plain query.
/// </summary>
public sealed class LocalProductIndexCommonTermsTests : IAsyncLifetime
{
    private static readonly LocalProductIndexOptions Off = new() { CommonTermFraction = 1.0 };
    private readonly TempFolder _folder = new();

    public async Task InitializeAsync()
    {
        // 200 products, "model" in every title; kettles are one in ten, a few are "deluxe".
        await using var index = LocalProductIndex.Open(_folder.Path);
        var random = new Random(5);
        await index.UpsertAsync([.. Enumerable.Range(0, 200).Select(i => P(
            $"p{i:D3}",
            $"{(i % 10 == 0 ? "kettle" : "lamp")} model {i}{(i % 50 == 0 ? " deluxe" : string.Empty)}",
            RandomUnit(random, 4),
            brand: "Acme"))]);
        await index.CommitAsync();
    }

    public Task DisposeAsync()
    {
        _folder.Dispose();
        return Task.CompletedTask;
    }

    [Fact]
    public async Task KeywordSearch_EnoughRareMatches_SameListAndScoresAsThePlainQuery()
    {
        await using var split = LocalProductIndex.Open(_folder.Path, readOnly: true);
        await using var plain = LocalProductIndex.Open(_folder.Path, readOnly: true, Off);
        var query = Keyword("kettle model", top: 10);

        var a = (await split.GetCandidatesAsync(query)).Keyword;
        var b = (await plain.GetCandidatesAsync(query)).Keyword;

        Assert.Equal(10, a.Count);
        AssertSameList(b, a);
        Assert.All(a, c => Assert.StartsWith("kettle", c.Product.Product.Title, StringComparison.Ordinal));
    }

    [Fact]
    public async Task KeywordSearch_TooFewRareMatches_PlainQueryFillsTheList()
    {
        await using var split = LocalProductIndex.Open(_folder.Path, readOnly: true);
        await using var plain = LocalProductIndex.Open(_folder.Path, readOnly: true, Off);
        var query = Keyword("deluxe model", top: 10); // 4 products are deluxe

        var a = (await split.GetCandidatesAsync(query)).Keyword;
        var b = (await plain.GetCandidatesAsync(query)).Keyword;

        Assert.Equal(10, a.Count);
        AssertSameList(b, a);
    }

    [Fact]
    public async Task SplitCommonTerms_FrequentTermOptional_RareTermsRequired()
    {
        await using var index = LocalProductIndex.Open(_folder.Path, readOnly: true);
        var reader = Lucene.Net.Index.DirectoryReader.Open(Lucene.Net.Store.FSDirectory.Open(_folder.Path));
        try
        {
            var split = index.SplitCommonTerms(index.BuildTextQuery("kettle model")!, reader);

            Assert.NotNull(split);
            Assert.Equal(2, split.Clauses.Count);
            Assert.Equal(Lucene.Net.Search.Occur.MUST, split.Clauses[0].Occur);
            Assert.Equal(Lucene.Net.Search.Occur.SHOULD, split.Clauses[1].Occur);
            Assert.Contains($"{ProductFields.Title}:model", split.Clauses[1].Query.ToString(), StringComparison.Ordinal);
            Assert.DoesNotContain($"{ProductFields.Title}:model", split.Clauses[0].Query.ToString(), StringComparison.Ordinal);

            // Nothing common (or everything common): the plain query stays.
            Assert.Null(index.SplitCommonTerms(index.BuildTextQuery("kettle deluxe")!, reader));
            Assert.Null(index.SplitCommonTerms(index.BuildTextQuery("model")!, reader));
        }
        finally
        {
            reader.Dispose();
        }
    }

    // Same products in the same order; the scores agree up to float rounding (the nested query adds in another order).
    private static void AssertSameList(IReadOnlyList<ScoredCandidate> expected, IReadOnlyList<ScoredCandidate> actual)
    {
        Assert.Equal(expected.Select(c => c.Product.Product.Id), actual.Select(c => c.Product.Product.Id));
        for (int i = 0; i < expected.Count; i++)
        {
            Assert.Equal(expected[i].Score, actual[i].Score, 1e-4);
        }
    }

    private static ProductQuery Keyword(string text, int top) => new() { Text = text, Mode = RankingMode.Keyword, Top = top };
}
