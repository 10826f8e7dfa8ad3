using Lucene.Net.Index;
using Lucene.Net.Store;
using Lucene.Net.Util;
using ProductSimilarity.Core.Indexing;
using ProductSimilarity.Search.Local;
using static ProductSimilarity.Search.Tests.Local.LocalIndexTestData;

namespace ProductSimilarity.Search.Tests.Local;

/// <summary>
/// The lookups a warmed index answers from memory instead of seeking in Lucene's terms: a product's row by id
/// (<see cref="SegmentVectors.FindRow"/>), and a keyword term's presence and single-document posting by hash
/// (<see cref="FieldVocabulary"/>).
/// </summary>
public sealed class InMemoryLookupTests
{
    [Fact]
    public void FindRow_ThousandIdsWithAnUpdatedOne_FindsEachLiveRowAndNothingElse()
    {
        var ids = Enumerable.Range(0, 1000).Select(i => $"sku-{i:D4}").ToList();
        ids.Add("sku-0007"); // row 1000: the new version of sku-0007, whose row 7 is deleted
        var segment = SegmentVectors.Create(ids, [.. ids.Select(_ => (float[]?)null)]);
        var live = new FixedBitSet(ids.Count);
        live.Set(0, ids.Count);
        live.Clear(7);

        for (int row = 0; row < 1000; row++)
        {
            Assert.Equal(row == 7 ? 1000 : row, segment.FindRow(ids[row], live));
        }

        Assert.Equal(-1, segment.FindRow("sku-1000", live));
        Assert.Equal(-1, segment.FindRow(string.Empty, live));
        Assert.Equal(-1, segment.FindRow("SKU-0001", live));

        // Without deletions any row of the id is live.
        Assert.Contains(segment.FindRow("sku-0007", null), new[] { 7, 1000 });

        // Every row deleted: nothing.
        Assert.Equal(-1, segment.FindRow("sku-0001", new FixedBitSet(ids.Count)));
    }

    [Theory]
    [InlineData("usb")]
    [InlineData("café")]
    [InlineData("耳机")]
    [InlineData("a\ud800b")] // a lone surrogate: U+FFFD in both encoders
    [InlineData("😀x")]
    public void Hash_OfATermAndOfItsBytesInTheTermsDictionary_Agree(string term)
        => Assert.Equal(SegmentPostings.Hash(new BytesRef(term)), SegmentPostings.Hash(term));

    [Fact]
    public async Task Vocabulary_TermsInOneDocument_HoldThatDocumentAndFrequency()
    {
        using var folder = new TempFolder();
        await using (var writer = LocalProductIndex.Open(folder.Path))
        {
            await writer.UpsertAsync([P("a", "alpha alpha beta", [1, 0]), P("b", "beta gamma", [0, 1]), P("c", "delta", [1, 1])]);
            await writer.CommitAsync();
        }

        using var directory = FSDirectory.Open(new DirectoryInfo(folder.Path));
        using var reader = DirectoryReader.Open(directory);
        var leaf = Assert.Single(reader.Leaves).AtomicReader;
        var vocabulary = FieldVocabulary.Read(leaf, ProductFields.Title);
        int DocOf(string id) => Enumerable.Range(0, leaf.MaxDoc).Single(d => leaf.Document(d).Get(ProductFields.Id) == id);

        Assert.Equal(4, vocabulary.Hashes.Length);
        Assert.True(vocabulary.Hashes.SequenceEqual(vocabulary.Hashes.Order()));
        (int Doc, int Freq) Entry(string term)
        {
            int at = vocabulary.Find(SegmentPostings.Hash(term));
            Assert.True(at >= 0, term);
            return (vocabulary.SingleDocs[at], vocabulary.SingleFreqs[at]);
        }

        Assert.Equal((DocOf("a"), 2), Entry("alpha"));
        Assert.Equal((DocOf("b"), 1), Entry("gamma"));
        Assert.Equal((DocOf("c"), 1), Entry("delta"));
        Assert.Equal((-1, 0), Entry("beta"));
        Assert.True(vocabulary.Find(SegmentPostings.Hash("epsilon")) < 0);

        // Read through the postings cache, a single is the same posting Lucene holds.
        var postings = new SegmentPostings(leaf.MaxDoc);
        Dictionary<string, TermsEnum?>? enums = null;
        var alpha = postings.Term(leaf, ProductFields.Title, "alpha", ref enums);
        Assert.Equal([DocOf("a")], alpha.Docs);
        Assert.Equal([2], alpha.Freqs!);
        Assert.Null(enums); // no seek was needed
        var beta = postings.Term(leaf, ProductFields.Title, "beta", ref enums);
        Assert.Equal(new[] { DocOf("a"), DocOf("b") }.Order(), beta.Docs);
        Assert.NotNull(enums);
    }
}
