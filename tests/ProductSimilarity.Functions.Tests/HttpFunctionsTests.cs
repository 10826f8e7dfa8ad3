using System.Text.Json;
using Microsoft.AspNetCore.Http;
using ProductSimilarity.Functions.Tests.Infrastructure;

namespace ProductSimilarity.Functions.Tests;

/// <summary>The HTTP functions called directly with real HttpContexts over a small ingested catalog.</summary>
[Collection(OnnxCollection.Name)]
public sealed class HttpFunctionsTests(OnnxGeneratorFixture onnx) : IAsyncLifetime
{
    private FunctionsTestHost _host = null!;

    public async Task InitializeAsync()
    {
        _host = FunctionsTestHost.Create(onnx.Generator);
        var summary = await _host.IngestFileAsync(TestPaths.TestData("catalog.csv"));
        Assert.Equal(8, summary.Embedded);
    }

    public async Task DisposeAsync() => await _host.DisposeAsync();

    [Fact]
    public async Task SimilarProducts_KnownId_ReturnsScoredItemsWithoutItselfOrVariants()
    {
        var response = await SimilarAsync("E002", "top=10");

        Assert.Equal(StatusCodes.Status200OK, response.StatusCode);
        Assert.StartsWith("application/json", response.ContentType, StringComparison.Ordinal);
        var json = response.Json;
        Assert.Equal("E002", json.GetProperty("query").GetProperty("id").GetString());
        var items = json.GetProperty("items").EnumerateArray().ToList();
        Assert.NotEmpty(items);
        var ids = items.Select(i => i.GetProperty("product").GetProperty("id").GetString()).ToList();
        Assert.DoesNotContain("E002", ids);
        Assert.DoesNotContain("E003", ids); // same group G-XM5: a variant
        Assert.Contains("E001", ids.Take(3));

        var first = items[0];
        Assert.True(first.GetProperty("score").GetDouble() > 0);
        Assert.Equal(JsonValueKind.Number, first.GetProperty("vectorScore").ValueKind);
        Assert.True(first.TryGetProperty("keywordScore", out _));
        Assert.Equal(1, first.GetProperty("vectorRank").GetInt32());
        Assert.True(first.TryGetProperty("keywordRank", out _));
        var product = first.GetProperty("product");
        foreach (var field in new[] { "id", "title", "brand", "category", "price", "currency", "inStock", "groupId", "imageUrl" })
        {
            Assert.True(product.TryGetProperty(field, out _), $"missing camelCase field {field}");
        }

        Assert.False(product.TryGetProperty("Title", out _));
    }

    [Fact]
    public async Task SimilarProducts_Explain_ReturnsCamelCaseExplanations()
    {
        var response = await SimilarAsync("E002", "top=3&explain=true");

        Assert.Equal(StatusCodes.Status200OK, response.StatusCode);
        var items = response.Json.GetProperty("items").EnumerateArray().ToList();
        var e001 = items.Single(i => i.GetProperty("product").GetProperty("id").GetString() == "E001").GetProperty("explanation");
        Assert.Equal(JsonValueKind.Number, e001.GetProperty("fusedScore").ValueKind);
        Assert.True(e001.GetProperty("fusedRank").GetInt32() >= 1);
        Assert.True(e001.TryGetProperty("vectorRank", out _));
        Assert.True(e001.TryGetProperty("keywordRank", out _));
        var terms = e001.GetProperty("sharedTerms").EnumerateArray()
            .ToDictionary(t => t.GetProperty("term").GetString()!, t => t.GetProperty("productCode").GetBoolean());
        Assert.True(terms["wf-1000xm5"]);
        Assert.False(terms["sony"]);
        var attributes = e001.GetProperty("matchingAttributes").EnumerateArray().Select(a => a.GetString()).ToList();
        Assert.Equal(["brand", "category", "priceBand"], attributes);

        var plain = await SimilarAsync("E002", "top=3");
        Assert.All(plain.Json.GetProperty("items").EnumerateArray(), i => Assert.False(i.TryGetProperty("explanation", out _)));
    }

    [Fact]
    public async Task SimilarProducts_Filters_ReturnOnlyMatchingProducts()
    {
        var response = await SimilarAsync("K003", "category=Home%20%26%20Kitchen%20%3E%20Cookware&maxPrice=20&inStock=true&fallback=false");

        Assert.Equal(StatusCodes.Status200OK, response.StatusCode);
        var ids = response.Json.GetProperty("items").EnumerateArray()
            .Select(i => i.GetProperty("product").GetProperty("id").GetString()).ToHashSet();
        Assert.Equal(new HashSet<string?> { "K001", "K004" }, ids);
    }

    [Fact]
    public async Task SimilarProducts_FewPassTheFilters_FallbackFillsAndSaysWhatWasRelaxed()
    {
        var response = await SimilarAsync("K003", "category=Home%20%26%20Kitchen%20%3E%20Cookware&maxPrice=20&inStock=true&top=5&explain=true");

        Assert.Equal(StatusCodes.Status200OK, response.StatusCode);
        var items = response.Json.GetProperty("items").EnumerateArray().ToList();
        Assert.Equal(5, items.Count);
        string? Id(JsonElement item) => item.GetProperty("product").GetProperty("id").GetString();

        // The two that pass come first and carry no "relaxed"; the rest miss price and category (in the default order,
        // price relaxes first and leaves no other cookware, then category), never the stock flag.
        Assert.Equal(new HashSet<string?> { "K001", "K004" }, items.Take(2).Select(Id).ToHashSet());
        Assert.All(items.Take(2), i => Assert.False(i.TryGetProperty("relaxed", out _)));
        foreach (var item in items.Skip(2))
        {
            Assert.Equal(["price", "category"], item.GetProperty("relaxed").EnumerateArray().Select(r => r.GetString()));
            Assert.Equal(["price", "category"], item.GetProperty("explanation").GetProperty("relaxedFilters").EnumerateArray().Select(r => r.GetString()));
            Assert.True(item.GetProperty("product").GetProperty("inStock").GetBoolean());
        }
    }

    [Fact]
    public async Task SimilarProducts_AttributeFilter_MatchesTheColumnCaseInsensitively()
    {
        var response = await SimilarAsync("K003", "attr.COLOR=bLaCk&fallback=false");
        var search = await SearchAsync("q=earbuds&attr.color=black&fallback=false");

        Assert.Equal(StatusCodes.Status200OK, response.StatusCode);
        Assert.Equal(
            new HashSet<string?> { "E001", "E003" },
            response.Json.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("product").GetProperty("id").GetString()).ToHashSet());
        Assert.Equal(StatusCodes.Status200OK, search.StatusCode);
        Assert.Equal(
            new HashSet<string?> { "E001", "E003", "K003" }, // every black product; the skillet ranks last
            search.Json.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("product").GetProperty("id").GetString()).ToHashSet());
    }

    [Fact]
    public async Task SimilarProducts_MmrAndDedupe_AnswerWithTheTopAsked()
    {
        var response = await SimilarAsync("E001", "top=3&mmr=0.5&dedupe=true");

        Assert.Equal(StatusCodes.Status200OK, response.StatusCode);
        var ids = response.Json.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("product").GetProperty("id").GetString()).ToList();
        Assert.Equal(3, ids.Count);
        Assert.DoesNotContain("E001", ids);
    }

    [Fact]
    public async Task SimilarProducts_UnknownId_Returns404Problem()
    {
        var response = await SimilarAsync("NOPE", null);

        Assert.Equal(StatusCodes.Status404NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.ContentType);
        Assert.Equal(404, response.Json.GetProperty("status").GetInt32());
        Assert.Contains("NOPE", response.Json.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("top=0", "top")]
    [InlineData("top=101", "top")]
    [InlineData("top=ten", "top")]
    [InlineData("top=1&top=2", "top")]
    [InlineData("minPrice=-1", "minPrice")]
    [InlineData("minPrice=abc", "minPrice")]
    [InlineData("minPrice=50&maxPrice=10", "maxPrice")]
    [InlineData("inStock=maybe", "inStock")]
    [InlineData("mode=fuzzy", "mode")]
    [InlineData("mode=1", "mode")]
    [InlineData("explain=yes", "explain")]
    [InlineData("fallback=maybe", "fallback")]
    [InlineData("dedupe=1", "dedupe")]
    [InlineData("mmr=1.5", "mmr")]
    [InlineData("mmr=abc", "mmr")]
    [InlineData("attr.=black", "attr.")]
    [InlineData("attr.color=a&attr.color=b", "attr.color")]
    public async Task SimilarProducts_InvalidQuery_Returns400ValidationProblem(string query, string field)
    {
        var response = await SimilarAsync("E001", query);

        AssertValidationProblem(response, field);
    }

    [Fact]
    public async Task SimilarProducts_IdTooLong_Returns400ValidationProblem()
    {
        var response = await SimilarAsync(new string('x', 513), null);

        AssertValidationProblem(response, "id");
    }

    [Fact]
    public async Task Search_Text_ReturnsBestMatchFirst()
    {
        var context = _host.NewHttpContext("GET", "/api/search", "?q=cast%20iron%20skillet&top=3");
        var response = await FunctionsTestHost.ExecuteAsync(await _host.HttpFunctions.Search(context.Request, default), context);

        Assert.Equal(StatusCodes.Status200OK, response.StatusCode);
        var items = response.Json.GetProperty("items").EnumerateArray().ToList();
        Assert.InRange(items.Count, 1, 3);
        Assert.Equal("K003", items[0].GetProperty("product").GetProperty("id").GetString());
        Assert.False(response.Json.TryGetProperty("query", out _));
    }

    [Theory]
    [InlineData("?top=3", "q")]
    [InlineData("?q=%20%20", "q")]
    [InlineData("?q=earbuds&top=500", "top")]
    public async Task Search_InvalidQuery_Returns400ValidationProblem(string query, string field)
    {
        var context = _host.NewHttpContext("GET", "/api/search", query);
        var response = await FunctionsTestHost.ExecuteAsync(await _host.HttpFunctions.Search(context.Request, default), context);

        AssertValidationProblem(response, field);
    }

    [Fact]
    public async Task Search_TextTooLong_Returns400ValidationProblem()
    {
        var context = _host.NewHttpContext("GET", "/api/search", "?q=" + new string('a', 1001));
        var response = await FunctionsTestHost.ExecuteAsync(await _host.HttpFunctions.Search(context.Request, default), context);

        AssertValidationProblem(response, "q");
    }

    [Fact]
    public async Task Recommendations_History_ReturnsItemsOutsideTheHistory()
    {
        const string body = """
            {"history":[{"id":"E001","event":"view","at":"2025-01-01T10:00:00Z"},{"id":"E004","event":"cart"}],
             "exclude":["E005"],"top":5,"filters":{"category":"Electronics > Audio"}}
            """;
        var response = await RecommendAsync(body);

        Assert.Equal(StatusCodes.Status200OK, response.StatusCode);
        var ids = response.Json.GetProperty("items").EnumerateArray()
            .Select(i => i.GetProperty("product").GetProperty("id").GetString()).ToList();
        Assert.NotEmpty(ids);
        Assert.DoesNotContain("E001", ids);
        Assert.DoesNotContain("E004", ids);
        Assert.DoesNotContain("E005", ids);
        Assert.All(ids, id => Assert.StartsWith("E", id, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("", "body")]
    [InlineData("not json", "$")]
    [InlineData("""{"history":[{"id":"E001"}],"strategy":"random"}""", "strategy")]
    [InlineData("""{"history":[{"id":"E001"}],"replenish":true,"excludePurchased":true}""", "replenish")]
    [InlineData("""{"history":[{"id":"E001","event":"like"}]}""", "history[0].event")]
    [InlineData("""{"history":[{"event":"view"}]}""", "history[0].id")]
    [InlineData("""{"history":[{"id":"E001","at":"yesterday"}]}""", "$.history[0].at")]
    [InlineData("""{"history":[{"id":"E001"}],"top":0}""", "top")]
    [InlineData("""{"history":[{"id":"E001"}],"top":101}""", "top")]
    [InlineData("""{"history":[{"id":"E001"}],"exclude":[""]}""", "exclude[0]")]
    [InlineData("""{"history":[{"id":"E001"}],"filters":{"minPrice":10,"maxPrice":1}}""", "filters.maxPrice")]
    public async Task Recommendations_InvalidBody_Returns400ValidationProblem(string body, string field)
    {
        var response = await RecommendAsync(body);

        AssertValidationProblem(response, field);
    }

    [Theory]
    [InlineData("""{"history":[]}""")]
    [InlineData("""{"exclude":["E001"]}""")]
    [InlineData("""{"history":[{"id":"not-in-the-index","event":"view"}]}""")]
    public async Task Recommendations_EmptyOrUnknownHistory_ColdStartSaysWhichFallback(string body)
    {
        var response = await RecommendAsync(body);

        Assert.Equal(StatusCodes.Status200OK, response.StatusCode);
        // The sample catalog has no popularity column and the history names no category: no fallback applies, and the response says so.
        Assert.Equal("none", response.Json.GetProperty("fallback").GetString());
    }

    [Fact]
    public async Task Recommendations_CategoryOnUnknownHistoryItem_CategoriesFallback()
    {
        var response = await RecommendAsync("""{"history":[{"id":"new-arrival","category":"Electronics > Audio"}],"top":3}""");

        Assert.Equal(StatusCodes.Status200OK, response.StatusCode);
        Assert.Equal("categories", response.Json.GetProperty("fallback").GetString());
        Assert.All(response.Json.GetProperty("items").EnumerateArray(), i => Assert.Equal("Electronics > Audio", i.GetProperty("product").GetProperty("category").GetString()));
    }

    [Fact]
    public async Task Recommendations_NotInterestedAndReplenish_Applied()
    {
        var plain = await RecommendAsync("""{"history":[{"id":"E001","event":"purchase"}],"top":5}""");
        var replenish = await RecommendAsync("""{"history":[{"id":"E001","event":"purchase"}],"top":5,"replenish":true,"explain":true}""");
        var firstPlain = Ids(plain)[0];
        var dismissed = await RecommendAsync($$"""{"history":[{"id":"E001","event":"purchase"},{"id":"{{firstPlain}}","event":"not_interested"}],"top":5}""");

        Assert.DoesNotContain("E001", Ids(plain));
        Assert.Equal("E001", Ids(replenish)[0]);
        var because = replenish.Json.GetProperty("items")[0].GetProperty("explanation").GetProperty("contributingHistory")[0];
        Assert.Equal("E001", because.GetProperty("id").GetString());
        Assert.DoesNotContain(firstPlain, Ids(dismissed));
        Assert.False(plain.Json.TryGetProperty("fallback", out _));
    }

    private static List<string?> Ids(TestResponse response) =>
        [.. response.Json.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("product").GetProperty("id").GetString())];

    [Fact]
    public async Task Recommendations_HistoryOverLimit_Returns400ValidationProblem()
    {
        var events = string.Join(',', Enumerable.Range(0, 201).Select(i => $$"""{"id":"P{{i}}"}"""));
        var response = await RecommendAsync($$"""{"history":[{{events}}]}""");

        AssertValidationProblem(response, "history");
    }

    [Fact]
    public async Task Recommendations_ExcludeOverLimit_Returns400ValidationProblem()
    {
        var exclude = string.Join(',', Enumerable.Range(0, 1001).Select(i => $"\"X{i}\""));
        var response = await RecommendAsync($$"""{"history":[{"id":"E001"}],"exclude":[{{exclude}}]}""");

        AssertValidationProblem(response, "exclude");
    }

    [Fact]
    public async Task Recommendations_BodyOverLimit_Returns413Problem()
    {
        var response = await RecommendAsync($$"""{"history":[{"id":"{{new string('x', 1024 * 1024)}}"}]}""");

        Assert.Equal(StatusCodes.Status413PayloadTooLarge, response.StatusCode);
        Assert.Equal("application/problem+json", response.ContentType);
    }

    [Fact]
    public async Task Recommendations_Always_NeverLogsHistoryIds()
    {
        // Ids that appear nowhere else, so any log record holding one leaked it from the history.
        var logs = _host.Logs;
        logs.Clear();
        const string good = """
            {"history":[{"id":"E001","event":"purchase"},{"id":"private-item-7f3a","event":"view"},{"id":"K003","event":"cart"}],
             "exclude":["private-excluded-91bc"]}
            """;
        const string bad = """{"history":[{"id":"private-bad-c0de","event":"wish"}]}""";

        Assert.Equal(StatusCodes.Status200OK, (await RecommendAsync(good)).StatusCode);
        Assert.Equal(StatusCodes.Status400BadRequest, (await RecommendAsync(bad)).StatusCode);

        var records = logs.GetSnapshot();
        Assert.NotEmpty(records); // the handler does log (the history's size), so the check below is not vacuous
        string[] secrets = ["E001", "K003", "private-item-7f3a", "private-excluded-91bc", "private-bad-c0de"];
        foreach (var record in records)
        {
            IEnumerable<string?> parts = [record.Message, record.Exception?.ToString(), .. (record.StructuredState ?? []).Select(s => s.Value)];
            var text = string.Join('|', parts);
            foreach (var secret in secrets)
            {
                Assert.DoesNotContain(secret, text, StringComparison.Ordinal);
            }
        }
    }

    [Fact]
    public async Task GetProduct_KnownId_ReturnsStoredProductWithAttributes()
    {
        var context = _host.NewHttpContext("GET", "/api/products/K003");
        var response = await FunctionsTestHost.ExecuteAsync(await _host.HttpFunctions.GetProduct(context.Request, "K003", default), context);

        Assert.Equal(StatusCodes.Status200OK, response.StatusCode);
        var json = response.Json;
        Assert.Equal("K003", json.GetProperty("product").GetProperty("id").GetString());
        Assert.Equal("Lodge", json.GetProperty("product").GetProperty("brand").GetString());
        Assert.Equal(34.90m, json.GetProperty("product").GetProperty("price").GetDecimal());
        Assert.Equal("Black", json.GetProperty("attributes").GetProperty("color").GetString());
        Assert.False(string.IsNullOrEmpty(json.GetProperty("contentHash").GetString()));
        Assert.False(json.TryGetProperty("vector", out _));
    }

    [Fact]
    public async Task GetProduct_UnknownId_Returns404Problem()
    {
        var context = _host.NewHttpContext("GET", "/api/products/K999");
        var response = await FunctionsTestHost.ExecuteAsync(await _host.HttpFunctions.GetProduct(context.Request, "K999", default), context);

        Assert.Equal(StatusCodes.Status404NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.ContentType);
    }

    [Fact]
    public async Task DeleteProduct_KnownId_Returns204AndRemovesIt()
    {
        var context = _host.NewHttpContext("DELETE", "/api/products/K001");
        var response = await FunctionsTestHost.ExecuteAsync(await _host.HttpFunctions.DeleteProduct(context.Request, "K001", default), context);

        Assert.Equal(StatusCodes.Status204NoContent, response.StatusCode);
        Assert.Null(await _host.Index.GetAsync("K001"));
        Assert.Equal(7, await _host.Index.CountAsync());
        Assert.Equal(StatusCodes.Status404NotFound, (await SimilarAsync("K001", null)).StatusCode);
    }

    [Fact]
    public async Task DeleteProduct_UnknownId_Returns404Problem()
    {
        var context = _host.NewHttpContext("DELETE", "/api/products/K999");
        var response = await FunctionsTestHost.ExecuteAsync(await _host.HttpFunctions.DeleteProduct(context.Request, "K999", default), context);

        Assert.Equal(StatusCodes.Status404NotFound, response.StatusCode);
        Assert.Equal(8, await _host.Index.CountAsync());
    }

    [Fact]
    public async Task Health_IndexAndModelReady_Returns200WithModelAndCount()
    {
        var context = _host.NewHttpContext("GET", "/api/health");
        var response = await FunctionsTestHost.ExecuteAsync(await _host.HttpFunctions.Health(context.Request, default), context);

        Assert.Equal(StatusCodes.Status200OK, response.StatusCode);
        var json = response.Json;
        Assert.Equal("healthy", json.GetProperty("status").GetString());
        Assert.Equal(8, json.GetProperty("documents").GetInt64());
        Assert.Equal(384, json.GetProperty("dimensions").GetInt32());
        Assert.False(string.IsNullOrEmpty(json.GetProperty("model").GetString()));
    }

    private async Task<TestResponse> SimilarAsync(string id, string? query)
    {
        var context = _host.NewHttpContext("GET", $"/api/products/{id}/similar", query is null ? null : "?" + query);
        return await FunctionsTestHost.ExecuteAsync(await _host.HttpFunctions.SimilarProducts(context.Request, id, default), context);
    }

    private async Task<TestResponse> SearchAsync(string query)
    {
        var context = _host.NewHttpContext("GET", "/api/search", "?" + query);
        return await FunctionsTestHost.ExecuteAsync(await _host.HttpFunctions.Search(context.Request, default), context);
    }

    private async Task<TestResponse> RecommendAsync(string body)
    {
        var context = _host.NewHttpContext("POST", "/api/recommendations", body: body);
        return await FunctionsTestHost.ExecuteAsync(await _host.HttpFunctions.Recommendations(context.Request, default), context);
    }

    private static void AssertValidationProblem(TestResponse response, string field)
    {
        Assert.Equal(StatusCodes.Status400BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.ContentType);
        var errors = response.Json.GetProperty("errors");
        Assert.True(errors.TryGetProperty(field, out var messages), $"no error for '{field}' in {response.Body}");
        Assert.NotEqual(0, messages.GetArrayLength());
    }
}
