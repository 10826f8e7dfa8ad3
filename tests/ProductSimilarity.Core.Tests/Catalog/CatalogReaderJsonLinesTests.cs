using System.Text;
using ProductSimilarity.Core.Catalog;
using static ProductSimilarity.Core.Tests.Catalog.CatalogTestData;

namespace ProductSimilarity.Core.Tests.Catalog;

public sealed class CatalogReaderJsonLinesTests
{
    private static Task<List<CatalogRow>> ReadJsonAsync(string content) => ReadAsync(content, "catalog.jsonl");

    [Fact]
    public async Task ReadAsync_TestDataFile_MapsTypesAndReportsBadLines()
    {
        var rows = await ReadAsync(await File.ReadAllBytesAsync(TestDataPath("catalog-types.jsonl")), "catalog-types.jsonl");

        Assert.Equal(["101", "102"], rows.Ids());
        var lamp = rows.Products()[0];
        Assert.Equal("Desk Lamp", lamp.Title);
        Assert.Equal(19.9m, lamp.Price);
        Assert.True(lamp.InStock);
        Assert.Equal("[\"led\", \"usb\"]", lamp.Attributes["tags"]);
        Assert.Equal("{\"h\": 40}", lamp.Attributes["dims"]);

        var earbuds = rows.Products()[1];
        Assert.Equal("无线蓝牙耳机", earbuds.Title);
        Assert.Equal(199m, earbuds.Price);
        Assert.False(earbuds.InStock);
        Assert.Equal("CNY", earbuds.Currency);
        Assert.Equal("0.25", earbuds.Attributes["weight"]);
        Assert.Equal("false", earbuds.Attributes["gift"]);
        Assert.False(earbuds.Attributes.ContainsKey("note"));

        Assert.Equal([1L, 3L, 4L, 5L, 6L], rows.Select(r => r.Line));
        var errors = rows.Errors();
        Assert.Equal([(4L, (string?)null), (5L, null), (6L, "price")], errors.Select(e => (e.Line, e.Field)));
        Assert.StartsWith("invalid JSON", errors[0].Reason, StringComparison.Ordinal);
        Assert.Equal("expected a JSON object, found array", errors[1].Reason);
        Assert.Equal("104", errors[2].Id);
    }

    [Fact]
    public async Task ReadAsync_AllKnownProperties_MapEveryField()
    {
        var rows = await ReadJsonAsync(
            "{\"ID\":\"P1\",\"Title\":\"Kettle\",\"description\":\"Boils\",\"brand\":\"Acme\",\"category\":\"Home\",\"price\":\"$24.50\"," +
            "\"currency\":\"USD\",\"in_stock\":\"yes\",\"group_id\":\"G1\",\"image_url\":\"https://x\",\"source\":\"feed\",\"deleted\":false}\n");

        var p = Assert.Single(rows.Products());
        Assert.Equal(
            ("P1", "Kettle", "Boils", "Acme", "Home", (decimal?)24.50m, "USD", (bool?)true, "G1", "https://x", "feed", false),
            (p.Id, p.Title, p.Description, p.Brand, p.Category, p.Price, p.Currency, p.InStock, p.GroupId, p.ImageUrl, p.Source, p.Deleted));
        Assert.Empty(p.Attributes);
    }

    [Fact]
    public async Task ReadAsync_NumericIdAndBooleanStrings_AreAccepted()
    {
        var rows = await ReadJsonAsync("{\"id\": 42, \"title\": \"Answer\", \"in_stock\": 1, \"deleted\": \"N\"}\n");

        var p = Assert.Single(rows.Products());
        Assert.Equal("42", p.Id);
        Assert.True(p.InStock);
        Assert.False(p.Deleted);
    }

    [Fact]
    public async Task ReadAsync_InvalidJsonInTheMiddle_KeepsGoodLinesBeforeAndAfter()
    {
        var rows = await ReadJsonAsync("{\"id\":\"A\",\"title\":\"One\"}\n{\"id\":\"B\",\"title\":\"Two\"\n{\"id\":\"C\",\"title\":\"Three\"}\n");

        Assert.Equal(["A", "C"], rows.Ids());
        var error = rows.SingleError();
        Assert.Equal((2L, (string?)null), (error.Line, error.Field));
        Assert.Equal("catalog.jsonl", error.File);
    }

    [Fact]
    public async Task ReadAsync_NoLineIsAnObject_GivesRowErrorsOnly()
    {
        var rows = await ReadJsonAsync("[1]\n\"text\"\n42\n");

        Assert.Equal(3, rows.Errors().Count);
        Assert.Empty(rows.Products());
    }

    [Fact]
    public async Task ReadAsync_ObjectForAKnownField_RejectsNamingIt()
    {
        var rows = await ReadJsonAsync("{\"id\":\"A\",\"title\":{\"en\":\"Lamp\"}}\n");

        var error = rows.SingleError();
        Assert.Equal((1L, "title", "A"), (error.Line, error.Field, error.Id));
    }

    [Fact]
    public async Task ReadAsync_FieldRules_SameAsCsv()
    {
        var rows = await ReadJsonAsync(
            "{\"id\":\"A\",\"title\":\"One\",\"price\":1}\n" +
            "{\"title\":\"No id\"}\n" +
            "{\"id\":\"  \",\"title\":\"Blank id\"}\n" +
            "{\"id\":\"B\",\"title\":\"\"}\n" +
            "{\"id\":\"C\",\"title\":\"Bad price\",\"price\":\"abc\"}\n" +
            "{\"id\":\"D\",\"title\":\"Negative\",\"price\":-2.5}\n" +
            "{\"id\":\"E\",\"title\":\"Bad bool\",\"in_stock\":\"maybe\"}\n" +
            "{\"id\":\"A\",\"title\":\"Duplicate\"}\n" +
            "{\"id\":\"F\",\"title\":\"Twice\",\"TITLE\":\"again\"}\n" +
            "{\"id\":\"G\",\"title\":\"Good\"}\n");

        Assert.Equal(["A", "G"], rows.Ids());
        Assert.Equal(
            [(2L, "id"), (3L, "id"), (4L, "title"), (5L, "price"), (6L, "price"), (7L, "in_stock"), (8L, "id"), (9L, "title")],
            rows.Errors().Select(e => (e.Line, e.Field!)));
        Assert.Equal("duplicate id 'A'; first seen at line 1", rows.Errors()[6].Reason);
    }

    [Fact]
    public async Task ReadAsync_InvalidUtf8_RejectsOnlyThatLineNamingTheField()
    {
        var bytes = Encoding.UTF8.GetBytes("{\"id\":\"A\",\"title\":\"Good\"}\n{\"id\":\"B\",\"title\":\"Bad ")
            .Concat(new byte[] { 0xE4, 0xB8 })
            .Concat(Encoding.UTF8.GetBytes("\"}\n{\"id\":\"C\",\"title\":\"降噪\"}\n"))
            .ToArray();

        var rows = await ReadAsync(bytes, "catalog.ndjson");

        Assert.Equal(["A", "C"], rows.Ids());
        var error = rows.SingleError();
        Assert.Equal((2L, "title", "invalid UTF-8", "B"), (error.Line, error.Field, error.Reason, error.Id));
    }

    [Fact]
    public async Task ReadAsync_TenMegabyteField_RejectsNamingFieldAndLength()
    {
        var huge = new string('a', 10 * 1024 * 1024);
        var rows = await ReadJsonAsync(
            "{\"id\":\"A\",\"title\":\"Good\"}\n{\"id\":\"B\",\"title\":\"Huge\",\"description\":\"" + huge + "\"}\n{\"id\":\"C\",\"title\":\"Good\"}\n");

        Assert.Equal(["A", "C"], rows.Ids());
        var error = rows.SingleError();
        Assert.Equal((2L, "description", "B"), (error.Line, error.Field, error.Id));
        Assert.Contains("10,485,760", error.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReadAsync_LineLongerThanRowLimit_IsRejectedAndReadingGoesOn()
    {
        var huge = new string(' ', CatalogReader.MaxRawRowLength + 10);
        var rows = await ReadJsonAsync("{\"id\":\"A\",\"title\":\"x\"" + huge + "}\n{\"id\":\"B\",\"title\":\"Good\"}\n");

        Assert.Equal(["B"], rows.Ids());
        Assert.Equal((1L, (string?)null), (rows.SingleError().Line, rows.SingleError().Field));
    }

    [Fact]
    public async Task ReadAsync_CrLfAndBlankLines_CountPhysicalLines()
    {
        var rows = await ReadJsonAsync("\r\n{\"id\":\"A\",\"title\":\"One\"}\r\n   \r\n{\"id\":\"B\",\"title\":\"Two\"}");

        Assert.Equal([2L, 4L], rows.Select(r => r.Line));
    }

    [Theory]
    [InlineData("")]
    [InlineData("\n  \n\r\n")]
    public async Task ReadAsync_EmptyJsonLines_ThrowsFileIsEmpty(string content)
    {
        var ex = await ThrowsFormatAsync(content, "catalog.jsonl");

        Assert.Contains("file is empty", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReadAsync_SampleUpdate_ReadsEveryRecord()
    {
        var rows = await ReadAsync(await File.ReadAllBytesAsync(SamplePath("catalog-update.jsonl")), "catalog-update.jsonl");

        Assert.Empty(rows.Errors());
        Assert.Equal(7, rows.Count);
    }
}
