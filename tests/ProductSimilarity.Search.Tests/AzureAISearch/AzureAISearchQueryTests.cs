using System.Text.Json.Nodes;
using ProductSimilarity.Core.Indexing;
using ProductSimilarity.Core.Ranking;

namespace ProductSimilarity.Search.Tests.AzureAISearch;

public sealed class AzureAISearchQueryTests
{
    private const string SearchPath = "/indexes('products')/docs/search.post.search";

    private static FakeSearchHandler Answering(string json) => new((_, _) => FakeSearch.Json(200, json));

    private const string TwoHits = """
        {
          "@odata.count": 2,
          "value": [
            { "@search.score": 0.8, "id": "p7", "title": "Wireless headphones", "brand": "Acme", "category": "Audio",
              "price": 59.5, "inStock": true, "contentHash": "h7", "attributes": null },
            { "@search.score": 0.5, "id": "p9", "title": "Wired headphones", "brand": "Acme", "category": "Audio",
              "price": 19.0, "inStock": true, "contentHash": "h9" }
          ]
        }
        """;

    // The keyword request carries "search"; the vector request carries "vectorQueries" and no text.
    private static bool IsVectorRequest(RecordedRequest request) => request.Json["vectorQueries"] is not null;

    private const string KeywordReply = """
        { "value": [
            { "@search.score": 12.0, "id": "p9", "title": "Wired headphones", "price": 19.0, "contentHash": "h9" },
            { "@search.score": 7.5, "id": "p3", "title": "Headphone stand", "price": 9.0, "contentHash": "h3" },
            { "@search.score": 3.0, "id": "p7", "title": "Wireless headphones", "price": 59.5, "contentHash": "h7" }
        ] }
        """;

    // Vector @search.score = 1 / (1 + (1 - cosine)): 0.9 -> cosine 0.888..., 0.8 -> 0.75, 0.6 -> 0.333...
    private const string VectorReply = """
        { "value": [
            { "@search.score": 0.9, "id": "p7", "title": "Wireless headphones", "price": 59.5, "contentHash": "h7" },
            { "@search.score": 0.8, "id": "p5", "title": "Earbuds", "price": 29.0, "contentHash": "h5" },
            { "@search.score": 0.6, "id": "p9", "title": "Wired headphones", "price": 19.0, "contentHash": "h9" }
        ] }
        """;

    private static FakeSearchHandler HybridReplies() => new((request, _) =>
        FakeSearch.Json(200, IsVectorRequest(request) ? VectorReply : KeywordReply));

    [Fact]
    public async Task SearchAsync_AttributeFilterWithVectors_PostsAnyClauseAndSelectsTheVector()
    {
        var handler = new FakeSearchHandler((request, _) => FakeSearch.Json(200, IsVectorRequest(request)
            ? """{ "value": [ { "@search.score": 0.9, "id": "p7", "title": "Black shoe", "contentHash": "h7", "vector": [0.6, 0.8, 0, 0] } ] }"""
            : """{ "value": [ { "@search.score": 4.0, "id": "p7", "title": "Black shoe", "contentHash": "h7", "vector": [0.6, 0.8, 0, 0] } ] }"""));
        await using var index = FakeSearch.CreateIndex(handler);
        var query = new ProductQuery
        {
            Text = "shoe",
            Vector = new[] { 1f, 0f, 0f, 0f },
            Top = 5,
            Filter = new ProductFilter { Attributes = new Dictionary<string, string> { ["Color"] = " Black ", ["material"] = "O'Brien wool" }, InStock = true },
            IncludeVectors = true,
        };

        IReadOnlyList<SearchHit> hits = await index.SearchAsync(query);

        Assert.Equal(2, handler.Requests.Count);
        foreach (RecordedRequest request in handler.Requests)
        {
            Assert.Equal(
                "inStock eq true and attributeKeys/any(t: t eq 'color=black') and attributeKeys/any(t: t eq 'material=o''brien wool')",
                request.Json["filter"]!.GetValue<string>());
            Assert.Contains("vector", request.Json["select"]!.GetValue<string>().Split(','));
        }

        Assert.Equal(new[] { 0.6f, 0.8f, 0f, 0f }, Assert.Single(hits).Product.Vector.ToArray());
    }

    [Fact]
    public async Task SearchAsync_HybridWithFilters_PostsKeywordAndVectorRequestsWithTheSameFilter()
    {
        var handler = HybridReplies();
        await using var index = FakeSearch.CreateIndex(handler);
        var query = new ProductQuery
        {
            Text = "wireless headphones",
            Vector = new[] { 0.25f, -0.5f, 0.75f, 0.125f },
            Mode = RankingMode.Hybrid,
            Fusion = new FusionOptions { Method = FusionMethod.Weighted, VectorWeight = 0.7 },
            Top = 5,
            Filter = new ProductFilter
            {
                Category = "Audio",
                Brand = "O'Neil",
                MinPrice = 10m,
                MaxPrice = 99.5m,
                InStock = true,
                Source = "shop-a",
                ExcludeSource = "shop-b",
            },
            ExcludeIds = new HashSet<string> { "p1" },
            ExcludeGroupIds = new HashSet<string> { "g1" },
        };

        IReadOnlyList<SearchHit> hits = await index.SearchAsync(query);

        Assert.Equal(2, handler.Requests.Count);
        Assert.All(handler.Requests, r => Assert.Equal(HttpMethod.Post, r.Method));
        Assert.All(handler.Requests, r => Assert.Equal(SearchPath, r.Path));
        const string Filter =
            "categoryKey eq 'audio' and brandKey eq 'o''neil' and price ge 10 and price le 99.5 and inStock eq true"
            + " and source eq 'shop-a' and source ne 'shop-b' and not search.in(id, 'p1', '|')"
            + " and (groupId eq null or not search.in(groupId, 'g1', '|'))";

        JsonNode keyword = Assert.Single(handler.Requests, r => !IsVectorRequest(r)).Json;
        Assert.Equal("wireless headphones", keyword["search"]!.GetValue<string>());
        Assert.Equal("simple", keyword["queryType"]!.GetValue<string>());
        Assert.Equal("any", keyword["searchMode"]!.GetValue<string>());
        Assert.Equal(FusionOptions.Default.CandidateCount, keyword["top"]!.GetValue<int>()); // max(candidate count, top 5)
        Assert.Equal(Filter, keyword["filter"]!.GetValue<string>());
        Assert.Null(keyword["vectorFilterMode"]);

        JsonNode vector = Assert.Single(handler.Requests, IsVectorRequest).Json;
        Assert.Null(vector["search"]);
        Assert.Equal(FusionOptions.Default.CandidateCount, vector["top"]!.GetValue<int>()); // k stays at least 50
        Assert.Equal(Filter, vector["filter"]!.GetValue<string>());
        JsonNode vectorQuery = Assert.Single(vector["vectorQueries"]!.AsArray())!;
        Assert.Equal("vector", vectorQuery["kind"]!.GetValue<string>());
        Assert.Equal(new[] { 0.25f, -0.5f, 0.75f, 0.125f }, vectorQuery["vector"]!.AsArray().Select(n => n!.GetValue<float>()).ToArray());
        Assert.Equal(50, vectorQuery["k"]!.GetValue<int>());
        Assert.Equal("vector", vectorQuery["fields"]!.GetValue<string>());
        Assert.Equal("preFilter", vector["vectorFilterMode"]!.GetValue<string>());

        foreach (RecordedRequest request in handler.Requests)
        {
            string[] select = request.Json["select"]!.GetValue<string>().Split(',');
            Assert.Contains("id", select);
            Assert.Contains("contentHash", select);
            Assert.DoesNotContain("vector", select);
        }

        // Weighted 0.7 cosine + 0.3 min-max BM25 (BM25 12 -> 1, 7.5 -> 0.5, 3 -> 0).
        Assert.Equal(["p7", "p9", "p5", "p3"], hits.Select(h => h.Product.Id));
        SearchHit p7 = hits[0];
        Assert.Equal(0.7 * (2 - (1 / 0.9)), p7.Score, 10);
        Assert.Equal(2 - (1 / 0.9), p7.VectorScore!.Value, 10);
        Assert.Equal(3.0, p7.KeywordScore);
        Assert.Equal(1, p7.VectorRank);
        Assert.Equal(3, p7.KeywordRank);
        Assert.Equal(59.5m, p7.Product.Product.Price);
        Assert.Equal("h7", p7.Product.ContentHash);
        Assert.True(p7.Product.Vector.IsEmpty);
        SearchHit p9 = hits[1];
        Assert.Equal((0.7 * (2 - (1 / 0.6))) + 0.3, p9.Score, 10);
        Assert.Equal(3, p9.VectorRank);
        Assert.Equal(1, p9.KeywordRank);
        Assert.Equal(12.0, p9.KeywordScore);
        Assert.Null(hits[2].KeywordScore);
        Assert.Null(hits[3].VectorScore);
    }

    [Theory]
    [InlineData(FusionMethod.Weighted, 0.7)]
    [InlineData(FusionMethod.Weighted, 0.2)]
    [InlineData(FusionMethod.Rrf, 0.7)]
    public async Task SearchAsync_HybridReplayed_FusedOrderEqualsLocalFusionOfTheSameLists(FusionMethod method, double vectorWeight)
    {
        var fusion = new FusionOptions { Method = method, VectorWeight = vectorWeight };
        var handler = HybridReplies();
        await using var index = FakeSearch.CreateIndex(handler);
        var query = new ProductQuery { Text = "headphones", Vector = new[] { 1f, 0f }, Fusion = fusion, Top = 10 };

        IReadOnlyList<SearchHit> cloud = await index.SearchAsync(query);

        // The same two lists, replayed from the wire replies, fused by the Core directly.
        ScoredCandidate[] vector = Replay(VectorReply, score => 2 - (1 / score));
        ScoredCandidate[] keyword = Replay(KeywordReply, score => score);
        IReadOnlyList<SearchHit> local = RankFusion.Fuse(vector, keyword, fusion);
        Assert.Equal(2, handler.Requests.Count);
        Assert.Equal(local.Select(h => h.Product.Id), cloud.Select(h => h.Product.Id));
        Assert.Equal(local.Select(h => Math.Round(h.Score, 9)), cloud.Select(h => Math.Round(h.Score, 9)));
        Assert.Equal(local.Select(h => (h.VectorRank, h.KeywordRank)), cloud.Select(h => (h.VectorRank, h.KeywordRank)));
    }

    [Fact]
    public async Task SearchAsync_HybridRequests_AreSentConcurrently()
    {
        // Each reply waits until both requests have arrived: requests sent one after the other would fail here.
        using var bothArrived = new CountdownEvent(2);
        var handler = new FakeSearchHandler((request, _) =>
        {
            bothArrived.Signal();
            return bothArrived.Wait(TimeSpan.FromSeconds(10))
                ? FakeSearch.Json(200, IsVectorRequest(request) ? VectorReply : KeywordReply)
                : FakeSearch.Error(400, "NotConcurrent", "the second request was not sent while the first was in flight");
        });
        await using var index = FakeSearch.CreateIndex(handler);

        IReadOnlyList<SearchHit> hits = await index.SearchAsync(new ProductQuery { Text = "headphones", Vector = new[] { 1f, 0f } });

        Assert.Equal(4, hits.Count);
    }

    private static ScoredCandidate[] Replay(string reply, Func<double, double> toScore)
        => [.. JsonNode.Parse(reply)!["value"]!.AsArray().Select(r => new ScoredCandidate(
            new IndexedProduct
            {
                Product = new ProductSimilarity.Core.Catalog.Product { Id = r!["id"]!.GetValue<string>(), Title = r["title"]!.GetValue<string>() },
                ContentHash = r["contentHash"]!.GetValue<string>(),
                Vector = ReadOnlyMemory<float>.Empty,
            },
            toScore(r["@search.score"]!.GetValue<double>())))];

    [Fact]
    public async Task SearchAsync_CandidateCountAboveFifty_UsesItAsK()
    {
        var handler = Answering("""{ "value": [] }""");
        await using var index = FakeSearch.CreateIndex(handler);

        await index.SearchAsync(new ProductQuery
        {
            Text = "lamp",
            Vector = new[] { 1f, 0f },
            Fusion = new FusionOptions { CandidateCount = 120 },
        });

        JsonNode body = Assert.Single(handler.Requests, IsVectorRequest).Json;
        Assert.Equal(120, body["vectorQueries"]![0]!["k"]!.GetValue<int>());
        Assert.Equal(120, body["top"]!.GetValue<int>());
        Assert.Equal(120, Assert.Single(handler.Requests, r => !IsVectorRequest(r)).Json["top"]!.GetValue<int>());
        Assert.Null(body["filter"]);
        Assert.Null(body["vectorFilterMode"]);
    }

    [Fact]
    public async Task SearchAsync_Keyword_SendsSanitizedTextOnly()
    {
        var handler = Answering(TwoHits);
        await using var index = FakeSearch.CreateIndex(handler);

        IReadOnlyList<SearchHit> hits = await index.SearchAsync(new ProductQuery
        {
            Text = "usb-c \"cable\" (2m) +fast* | wi~fi\\",
            Vector = new[] { 1f, 0f },
            Mode = RankingMode.Keyword,
        });

        JsonNode body = Assert.Single(handler.Requests).Json;
        Assert.Equal("usb c cable 2m fast wi fi", body["search"]!.GetValue<string>());
        Assert.Null(body["vectorQueries"]);
        Assert.Equal(0.8, hits[0].KeywordScore);
        Assert.Equal(1, hits[0].KeywordRank);
        Assert.Equal(2, hits[1].KeywordRank);
        Assert.Null(hits[0].VectorScore);
    }

    [Fact]
    public async Task SearchAsync_KeywordWithCodes_AddsNormalisedCodesAndUsesTheCodesProfile()
    {
        var handler = HybridReplies();
        await using var index = FakeSearch.CreateIndex(handler);

        await index.SearchAsync(new ProductQuery { Text = "sony wh-1000xm4/b headphones", Vector = new[] { 1f, 0f }, Mode = RankingMode.Hybrid });

        JsonNode keyword = handler.Requests.Single(r => !IsVectorRequest(r)).Json;
        Assert.Equal("sony wh 1000xm4 b headphones wh1000xm4b wh1000xm4", keyword["search"]!.GetValue<string>());
        Assert.Equal("codes-boost", keyword["scoringProfile"]!.GetValue<string>());
        Assert.Equal("any", keyword["searchMode"]!.GetValue<string>());
        JsonNode vector = handler.Requests.Single(IsVectorRequest).Json;
        Assert.Null(vector["scoringProfile"]); // the profile weighs text fields only
    }

    [Fact]
    public async Task SearchAsync_KeywordOnlyOperators_ReturnsEmptyWithoutRequest()
    {
        var handler = Answering(TwoHits);
        await using var index = FakeSearch.CreateIndex(handler);

        IReadOnlyList<SearchHit> hits = await index.SearchAsync(new ProductQuery { Text = " -+|* ", Mode = RankingMode.Keyword });

        Assert.Empty(hits);
        Assert.Empty(handler.Requests);
    }

    [Fact]
    public async Task SearchAsync_Vector_SendsNoTextAndConvertsScoreToCosine()
    {
        var handler = Answering(TwoHits);
        await using var index = FakeSearch.CreateIndex(handler);

        IReadOnlyList<SearchHit> hits = await index.SearchAsync(new ProductQuery
        {
            Text = "ignored in vector mode",
            Vector = new[] { 0.6f, 0.8f },
            Mode = RankingMode.Vector,
            Top = 3,
        });

        JsonNode body = Assert.Single(handler.Requests).Json;
        Assert.Null(body["search"]);
        Assert.Equal(3, body["top"]!.GetValue<int>());
        Assert.Equal(50, body["vectorQueries"]![0]!["k"]!.GetValue<int>());
        // @search.score = 1 / (1 + (1 - cosine)): 0.8 -> cosine 0.75, 0.5 -> cosine 0.
        Assert.Equal(0.75, hits[0].Score, 10);
        Assert.Equal(0.75, hits[0].VectorScore!.Value, 10);
        Assert.Equal(1, hits[0].VectorRank);
        Assert.Equal(0.0, hits[1].VectorScore!.Value, 10);
        Assert.Null(hits[0].KeywordScore);
    }

    [Fact]
    public async Task SearchAsync_VectorModeWithoutVector_ThrowsArgumentException()
    {
        var handler = Answering(TwoHits);
        await using var index = FakeSearch.CreateIndex(handler);

        await Assert.ThrowsAsync<ArgumentException>(() => index.SearchAsync(new ProductQuery { Text = "x", Mode = RankingMode.Vector }));
    }

    [Fact]
    public async Task SearchAsync_BadRequest400_ThrowsProductIndexExceptionWithContext()
    {
        var handler = new FakeSearchHandler((_, _) => FakeSearch.Error(400, "InvalidRequestParameter",
            "Invalid expression: Could not find a property named 'colour' on type 'search.document'."));
        await using var index = FakeSearch.CreateIndex(handler);

        var ex = await Assert.ThrowsAsync<ProductIndexException>(() => index.SearchAsync(new ProductQuery { Text = "lamp" }));

        Assert.Contains("Azure AI Search index 'products'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("search failed with HTTP 400", ex.Message, StringComparison.Ordinal);
        Assert.Contains("InvalidRequestParameter", ex.Message, StringComparison.Ordinal);
        Assert.Contains("Could not find a property named 'colour'", ex.Message, StringComparison.Ordinal);
        Assert.Single(handler.Requests);
    }

    [Fact]
    public async Task SearchAsync_IncludeVectorsInResults_SelectsAndMapsVector()
    {
        var handler = Answering("""{ "value": [ { "@search.score": 0.03, "id": "p1", "title": "t", "vector": [1.0, 0.0] } ] }""");
        var client = new Azure.Search.Documents.Indexes.SearchIndexClient(
            FakeSearch.Endpoint, new Azure.AzureKeyCredential("k"), FakeSearch.ClientOptions(handler));
        await using var index = new ProductSimilarity.Search.AzureAISearch.AzureAISearchProductIndex(client, "products", "en.lucene")
        {
            IncludeVectorsInResults = true,
        };

        IReadOnlyList<SearchHit> hits = await index.SearchAsync(new ProductQuery { Text = "t", Vector = new[] { 1f, 0f } });

        Assert.Equal(2, handler.Requests.Count);
        Assert.All(handler.Requests, r => Assert.Contains("vector", r.Json["select"]!.GetValue<string>().Split(',')));
        Assert.Equal(new[] { 1f, 0f }, Assert.Single(hits).Product.Vector.ToArray());
    }
}
