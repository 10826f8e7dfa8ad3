using System.Text.Json.Nodes;
using ProductSimilarity.Core.Indexing;

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

    [Fact]
    public async Task SearchAsync_HybridWithFilters_PostsTextVectorQueryFilterAndTop()
    {
        var handler = Answering(TwoHits);
        await using var index = FakeSearch.CreateIndex(handler);
        var query = new ProductQuery
        {
            Text = "wireless headphones",
            Vector = new[] { 0.25f, -0.5f, 0.75f, 0.125f },
            Mode = RankingMode.Hybrid,
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

        RecordedRequest request = Assert.Single(handler.Requests);
        Assert.Equal(HttpMethod.Post, request.Method);
        Assert.Equal(SearchPath, request.Path);
        JsonNode body = request.Json;
        Assert.Equal("wireless headphones", body["search"]!.GetValue<string>());
        Assert.Equal("simple", body["queryType"]!.GetValue<string>());
        Assert.Equal("any", body["searchMode"]!.GetValue<string>());
        Assert.Equal(5, body["top"]!.GetValue<int>());
        Assert.Equal(
            "categoryKey eq 'audio' and brandKey eq 'o''neil' and price ge 10 and price le 99.5 and inStock eq true"
            + " and source eq 'shop-a' and source ne 'shop-b' and not search.in(id, 'p1', '|')"
            + " and (groupId eq null or not search.in(groupId, 'g1', '|'))",
            body["filter"]!.GetValue<string>());
        JsonNode vectorQuery = Assert.Single(body["vectorQueries"]!.AsArray())!;
        Assert.Equal("vector", vectorQuery["kind"]!.GetValue<string>());
        Assert.Equal(new[] { 0.25f, -0.5f, 0.75f, 0.125f }, vectorQuery["vector"]!.AsArray().Select(n => n!.GetValue<float>()).ToArray());
        Assert.Equal(50, vectorQuery["k"]!.GetValue<int>());
        Assert.Equal("vector", vectorQuery["fields"]!.GetValue<string>());
        Assert.Equal("preFilter", body["vectorFilterMode"]!.GetValue<string>());
        string[] select = body["select"]!.GetValue<string>().Split(',');
        Assert.Contains("id", select);
        Assert.Contains("contentHash", select);
        Assert.DoesNotContain("vector", select);

        Assert.Equal(["p7", "p9"], hits.Select(h => h.Product.Id));
        Assert.Equal(0.8, hits[0].Score);
        Assert.Null(hits[0].VectorScore);
        Assert.Null(hits[0].KeywordScore);
        Assert.Null(hits[0].VectorRank);
        Assert.Equal(59.5m, hits[0].Product.Product.Price);
        Assert.Equal("h7", hits[0].Product.ContentHash);
        Assert.True(hits[0].Product.Vector.IsEmpty);
    }

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

        JsonNode body = Assert.Single(handler.Requests).Json;
        Assert.Equal(120, body["vectorQueries"]![0]!["k"]!.GetValue<int>());
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

        Assert.Contains("vector", Assert.Single(handler.Requests).Json["select"]!.GetValue<string>().Split(','));
        Assert.Equal(new[] { 1f, 0f }, Assert.Single(hits).Product.Vector.ToArray());
    }
}
