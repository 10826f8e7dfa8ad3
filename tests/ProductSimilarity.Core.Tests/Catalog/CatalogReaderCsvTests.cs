using System.Text;
using ProductSimilarity.Core.Catalog;
using static ProductSimilarity.Core.Tests.Catalog.CatalogTestData;

namespace ProductSimilarity.Core.Tests.Catalog;

public sealed class CatalogReaderCsvTests
{
    private const string Header = "id,title,price\n";

    [Fact]
    public async Task ReadAsync_AllKnownColumns_MapsEveryField()
    {
        var rows = await ReadAsync(
            "id,title,description,brand,category,price,currency,in_stock,group_id,image_url,source,deleted\n" +
            "P1, Kettle ,Boils <b>fast</b>,Acme,Home > Kitchen,24.50,USD,true,G1,https://x/1.jpg,feed-a,no\n");

        var row = Assert.Single(rows);
        Assert.False(row.IsError);
        Assert.Equal(2, row.Line);
        var p = row.Product!;
        Assert.Equal("P1", p.Id);
        Assert.Equal("Kettle", p.Title);
        Assert.Equal("Boils <b>fast</b>", p.Description);
        Assert.Equal("Acme", p.Brand);
        Assert.Equal("Home > Kitchen", p.Category);
        Assert.Equal(24.50m, p.Price);
        Assert.Equal("USD", p.Currency);
        Assert.True(p.InStock);
        Assert.Equal("G1", p.GroupId);
        Assert.Equal("https://x/1.jpg", p.ImageUrl);
        Assert.Equal("feed-a", p.Source);
        Assert.False(p.Deleted);
        Assert.Empty(p.Attributes);
    }

    [Fact]
    public async Task ReadAsync_AnyColumnOrderAndHeaderCase_MapsByName()
    {
        var rows = await ReadAsync("Colour,PRICE,Title,Brand,ID\nRed,5,Cup,Acme,C1\n");

        var p = Assert.Single(rows.Products());
        Assert.Equal("C1", p.Id);
        Assert.Equal("Cup", p.Title);
        Assert.Equal("Acme", p.Brand);
        Assert.Equal(5m, p.Price);
        Assert.Equal("Red", p.Attributes["Colour"]);
    }

    [Fact]
    public async Task ReadAsync_ExtraColumns_GoToAttributesWithoutEmptyValues()
    {
        var rows = await ReadAsync("id,title,color,size,material\nA,Shirt,Blue,,  \nB,Hat,,L,Wool\n");

        var products = rows.Products();
        Assert.Equal(2, products.Count);
        Assert.Equal(new Dictionary<string, string> { ["color"] = "Blue" }, products[0].Attributes);
        Assert.Equal(new Dictionary<string, string> { ["size"] = "L", ["material"] = "Wool" }, products[1].Attributes);
    }

    [Fact]
    public async Task ReadAsync_Aliases_MapToFieldsAndCanonicalNamesWin()
    {
        var rows = await ReadAsync("product_id,name,manufacturer,In-Stock,item_group_id,image_link\nX1,Lamp,Acme,y,G9,https://x\n");

        var p = Assert.Single(rows.Products());
        Assert.Equal("X1", p.Id);
        Assert.Equal("Lamp", p.Title);
        Assert.Equal("Acme", p.Brand);
        Assert.True(p.InStock);
        Assert.Equal("G9", p.GroupId);
        Assert.Equal("https://x", p.ImageUrl);

        var both = await ReadAsync("id,title,name\nX2,Real title,Other name\n");
        var q = Assert.Single(both.Products());
        Assert.Equal("Real title", q.Title);
        Assert.Equal("Other name", q.Attributes["name"]);
    }

    [Fact]
    public async Task ReadAsync_QuotedFields_HandlesCommasNewlinesAndEscapedQuotes()
    {
        var rows = await ReadAsync(
            "id,title,description\n" +
            "1,\"Kettle, 1.7 L\",\"Line one\nLine two, with comma\nLine three\"\n" +
            "2,\"Mug \"\"Classic\"\"\",\"\"\n" +
            "3, \"Spaced, quoted\" ,plain\n");

        Assert.Empty(rows.Errors());
        var products = rows.Products();
        Assert.Equal("Kettle, 1.7 L", products[0].Title);
        Assert.Equal("Line one\nLine two, with comma\nLine three", products[0].Description);
        Assert.Equal("Mug \"Classic\"", products[1].Title);
        Assert.Null(products[1].Description);
        Assert.Equal("Spaced, quoted", products[2].Title);
        Assert.Equal([2L, 5L, 6L], rows.Select(r => r.Line));
    }

    [Fact]
    public async Task ReadAsync_TestDataFileWithBomAndCrLf_ReadsEveryRowWithLines()
    {
        var rows = await ReadAsync(await File.ReadAllBytesAsync(TestDataPath("catalog-bom-crlf.csv")), "catalog-bom-crlf.csv");

        Assert.Empty(rows.Errors());
        Assert.Equal(["A1", "A2", "A3"], rows.Ids());
        Assert.Equal([2L, 3L, 5L], rows.Select(r => r.Line));
        var products = rows.Products();
        Assert.Equal("Kettle, 1.7 L", products[0].Title);
        Assert.Equal(24.50m, products[0].Price);
        Assert.True(products[0].InStock);
        Assert.Equal("Steel", products[0].Attributes["Colour"]);
        Assert.Equal("Two-line\r\ndescription title", products[1].Title);
        Assert.False(products[1].InStock);
        Assert.Equal("Mug \"Classic\"", products[2].Title);
        Assert.Null(products[2].InStock);
    }

    [Fact]
    public async Task ReadAsync_Utf8Bom_IsNotPartOfTheFirstColumnName()
    {
        var bytes = Encoding.UTF8.GetPreamble().Concat(Encoding.UTF8.GetBytes("id,title\nA,Lamp\n")).ToArray();

        var rows = await ReadAsync(bytes, "bom.csv");

        Assert.Equal(["A"], rows.Ids());
    }

    [Fact]
    public async Task ReadAsync_MixedLineEndingsAndBlankLines_CountsPhysicalLines()
    {
        var rows = await ReadAsync("id,title\r\n\r\nA,One\rB,Two\n\n   \nC,Three");

        Assert.Empty(rows.Errors());
        Assert.Equal(["A", "B", "C"], rows.Ids());
        Assert.Equal([3L, 4L, 7L], rows.Select(r => r.Line));
    }

    [Fact]
    public async Task ReadAsync_UnterminatedQuoteInTheMiddle_KeepsGoodRowsBeforeAndAfter()
    {
        var rows = await ReadAsync(Header + "1,Good one,1\n2,\"Broken title,2\n3,Good three,3\n4,Good four,4\n");

        Assert.Equal(["1", "3", "4"], rows.Ids());
        var error = rows.SingleError();
        Assert.Equal(3, error.Line);
        Assert.Equal("title", error.Field);
        Assert.Equal("2", error.Id);
        Assert.Equal("catalog.csv", error.File);
        Assert.Contains("resumed at line 4", error.Reason, StringComparison.Ordinal);
        Assert.Equal([2L, 3L, 4L, 5L], rows.Select(r => r.Line));
    }

    [Fact]
    public async Task ReadAsync_BrokenQuoteFollowedByQuotedRows_ResynchronisesAndKeepsThem()
    {
        var rows = await ReadAsync(
            Header +
            "1,\"Good, quoted\",1\n" +
            "2,\"Broken title,2\n" +
            "3,Good three,3\n" +
            "4,\"Quoted four\",4\n" +
            "5,\"Multi\nline five\",5\n" +
            "6,Good six,6\n");

        Assert.Equal(["1", "3", "4", "5", "6"], rows.Ids());
        var error = rows.SingleError();
        Assert.Equal(3, error.Line);
        Assert.Equal("title", error.Field);
        Assert.Equal("Multi\nline five", rows.Products()[3].Title);
        Assert.Equal([2L, 3L, 4L, 5L, 6L, 8L], rows.Select(r => r.Line));
    }

    [Fact]
    public async Task ReadAsync_BrokenQuoteThatSwallowsAFullRow_DetectsColumnCountAndResynchronises()
    {
        // The stray opening quote pairs with the quote on line 4, giving a "row" with too many columns.
        var rows = await ReadAsync(Header + "1,\"Broken,1\n2,Good two,2\n3,Ends with quote\",3,x\n4,Good four,4\n");

        Assert.Equal(["2", "4"], rows.Ids());
        var errors = rows.Errors();
        Assert.Equal(2, errors.Count);
        Assert.Equal(2, errors[0].Line);
        Assert.Equal("title", errors[0].Field);
        Assert.Equal(4, errors[1].Line); // the line with the stray closing quote is bad on its own too
    }

    [Theory]
    [InlineData("\r\n")]
    [InlineData("\r")]
    public async Task ReadAsync_BrokenQuoteWithOtherLineEndings_ResynchronisesOnTheRightLine(string eol)
    {
        var rows = await ReadAsync(string.Join(eol, "id,title,price", "1,Good,1", "2,\"Broken,2", "3,Good3,3", "4,Good4,4", ""));

        Assert.Equal(["1", "3", "4"], rows.Ids());
        Assert.Equal([2L, 3L, 4L, 5L], rows.Select(r => r.Line));
        Assert.Equal("title", rows.SingleError().Field);
    }

    [Fact]
    public async Task ReadAsync_BrokenQuoteFollowedByMoreThanOneBufferOfRows_KeepsThemAll()
    {
        var builder = new StringBuilder(Header).Append("x,\"Broken,0\n");
        for (var i = 0; i < 5000; i++)
        {
            builder.Append(i).Append(",Title number ").Append(i).Append(",1.5\n"); // ~130 K chars in all
        }

        var rows = await ReadAsync(builder.ToString());

        Assert.Equal(5000, rows.Products().Count);
        Assert.Equal(5002L, rows[^1].Line);
        Assert.Equal((2L, "title", "x"), (rows[0].Error!.Line, rows[0].Error!.Field, rows[0].Error!.Id));
    }

    [Fact]
    public async Task ReadAsync_EveryOtherRowHasABrokenQuote_KeepsEveryGoodRow()
    {
        var builder = new StringBuilder(Header);
        for (var i = 0; i < 200; i++)
        {
            builder.Append(i).Append(i % 2 == 0 ? ",\"Broken " : ",Good ").Append(i).Append(",1\n");
        }

        var rows = await ReadAsync(builder.ToString());

        Assert.Equal(Enumerable.Range(0, 100).Select(i => (2 * i) + 1), rows.Ids().Select(int.Parse));
        Assert.Equal(Enumerable.Range(0, 100).Select(i => (long)(2 * i) + 2), rows.Errors().Select(e => e.Line));
    }

    [Fact]
    public async Task ReadAsync_QuoteInsideUnquotedField_IsTextLikePythonCsvAndExcel()
    {
        var rows = await ReadAsync(Header + "1,Monitor 27\" IPS,199\n2,Cable,5\n3,Stand,20\n");

        Assert.Equal(["1", "2", "3"], rows.Ids());
        Assert.Equal("Monitor 27\" IPS", rows.Products()[0].Title);
        Assert.Empty(rows.Errors());
    }

    [Fact]
    public async Task ReadAsync_TextAfterClosingQuote_RejectsThatRow()
    {
        var rows = await ReadAsync(Header + "1,\"Quoted\"tail,1\n2,Fine,2\n");

        Assert.Equal(["2"], rows.Ids());
        var error = rows.SingleError();
        Assert.Equal((2L, "title"), (error.Line, error.Field));
    }

    [Fact]
    public async Task ReadAsync_UnterminatedQuoteOnLastLine_ReportsItsLine()
    {
        var rows = await ReadAsync(Header + "1,Good,1\n2,\"Never closed,2");

        Assert.Equal(["1"], rows.Ids());
        var error = rows.SingleError();
        Assert.Equal((3L, "title"), (error.Line, error.Field));
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("\"\"")]
    public async Task ReadAsync_MissingId_RejectsRowNamingId(string id)
    {
        var rows = await ReadAsync(Header + "A,Good,1\n" + id + ",No id,2\nB,Good,3\n");

        Assert.Equal(["A", "B"], rows.Ids());
        var error = rows.SingleError();
        Assert.Equal((3L, "id"), (error.Line, error.Field));
        Assert.Null(error.Id);
    }

    [Fact]
    public async Task ReadAsync_MissingTitle_RejectsRowUnlessDeleted()
    {
        var rows = await ReadAsync("id,title,deleted\nA,,\nB,  ,false\nC,,true\nD,Fine,\n");

        Assert.Equal(["C", "D"], rows.Ids());
        var errors = rows.Errors();
        Assert.Equal([(2L, "title", "A"), (3L, "title", "B")], errors.Select(e => (e.Line, e.Field, e.Id)));
        var deleted = rows.Products()[0];
        Assert.True(deleted.Deleted);
        Assert.Equal(string.Empty, deleted.Title);
    }

    [Fact]
    public async Task ReadAsync_DuplicateId_RejectsLaterRowNamingTheFirstLine()
    {
        var rows = await ReadAsync(Header + "A,One,1\nB,Two,2\nC,Three,3\n A ,Again,4\nD,Four,5\n");

        Assert.Equal(["A", "B", "C", "D"], rows.Ids());
        var error = rows.SingleError();
        Assert.Equal((5L, "id", "A"), (error.Line, error.Field, error.Id));
        Assert.Equal("duplicate id 'A'; first seen at line 2", error.Reason);
    }

    [Fact]
    public async Task ReadAsync_RejectedRowId_DoesNotMakeALaterGoodRowADuplicate()
    {
        var rows = await ReadAsync(Header + "A,One,abc\nA,One again,1\n");

        Assert.Equal(["A"], rows.Ids());
        Assert.Equal(2, rows.SingleError().Line);
    }

    [Fact]
    public async Task ReadAsync_IdLongerThanLimit_RejectsRow()
    {
        var longId = new string('x', CatalogLimits.MaxIdLength + 1);
        var okId = new string('y', CatalogLimits.MaxIdLength);

        var rows = await ReadAsync(Header + longId + ",Too long,1\n" + okId + ",Fits,2\n");

        Assert.Equal([okId], rows.Ids());
        var error = rows.SingleError();
        Assert.Equal((2L, "id"), (error.Line, error.Field));
        Assert.Contains("513", error.Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("abc")]
    [InlineData("-5")]
    [InlineData("\"1,2,3\"")]
    [InlineData("9.99 apples")]
    [InlineData("$")]
    public async Task ReadAsync_BadPrice_RejectsRowNamingPrice(string price)
    {
        var rows = await ReadAsync(Header + "A,Good,1\nB,Bad price," + price + "\nC,Good,3\n");

        Assert.Equal(["A", "C"], rows.Ids());
        var error = rows.SingleError();
        Assert.Equal((3L, "price", "B"), (error.Line, error.Field, error.Id));
    }

    [Theory]
    [InlineData("9.99", "9.99")]
    [InlineData("$9.99", "9.99")]
    [InlineData("\" € 10 \"", "10")]
    [InlineData("£3", "3")]
    [InlineData("¥100", "100")]
    [InlineData("￥88.5", "88.5")]
    [InlineData("0", "0")]
    [InlineData("\"1,5\"", "1.5")]
    [InlineData("9.99 USD", "9.99")]
    [InlineData("", null)]
    public async Task ReadAsync_Price_ParsesInvariantWithOptionalSymbol(string price, string? expected)
    {
        var rows = await ReadAsync(Header + "A,Item," + price + "\n");

        var p = Assert.Single(rows.Products());
        Assert.Equal(expected is null ? null : decimal.Parse(expected, System.Globalization.CultureInfo.InvariantCulture), p.Price);
    }

    [Theory]
    [InlineData("true", true)]
    [InlineData("FALSE", false)]
    [InlineData("Yes", true)]
    [InlineData("no", false)]
    [InlineData("1", true)]
    [InlineData("0", false)]
    [InlineData("Y", true)]
    [InlineData("n", false)]
    [InlineData("", null)]
    public async Task ReadAsync_InStock_AcceptsBooleanSpellings(string value, bool? expected)
    {
        var rows = await ReadAsync("id,title,in_stock,deleted\nA,Item," + value + "," + value + "\n");

        var p = Assert.Single(rows.Products());
        Assert.Equal(expected, p.InStock);
        Assert.Equal(expected ?? false, p.Deleted);
    }

    [Theory]
    [InlineData("in_stock", "maybe,")]
    [InlineData("deleted", ",perhaps")]
    public async Task ReadAsync_BadBoolean_RejectsRowNamingField(string field, string values)
    {
        var rows = await ReadAsync("id,title,in_stock,deleted\nA,Good,,\nB,Bad," + values + "\nC,Good,,\n");

        Assert.Equal(["A", "C"], rows.Ids());
        var error = rows.SingleError();
        Assert.Equal((3L, field, "B"), (error.Line, error.Field, error.Id));
    }

    [Fact]
    public async Task ReadAsync_InvalidUtf8_RejectsOnlyThatRowNamingTheField()
    {
        var bytes = Encoding.UTF8.GetBytes("id,title,description\nA,Good,ok\nB,Bad,caf")
            .Concat(new byte[] { 0xC3, 0x28, 0xFF })
            .Concat(Encoding.UTF8.GetBytes("\nC,Good 无线,ok\n"))
            .ToArray();

        var rows = await ReadAsync(bytes, "catalog.csv");

        Assert.Equal(["A", "C"], rows.Ids());
        Assert.Equal("Good 无线", rows.Products()[1].Title);
        var error = rows.SingleError();
        Assert.Equal((3L, "description", "invalid UTF-8", "B"), (error.Line, error.Field, error.Reason, error.Id));
    }

    [Fact]
    public async Task ReadAsync_TenMegabyteField_RejectsRowNamingFieldAndLengthAndKeepsTheRest()
    {
        var huge = new string('a', 10 * 1024 * 1024);
        var csv = "id,title,description\nA,Good,ok\nB,Huge," + huge + "\nC,Good,ok\n";

        var rows = await ReadAsync(csv);

        Assert.Equal(["A", "C"], rows.Ids());
        var error = rows.SingleError();
        Assert.Equal((3L, "description", "B"), (error.Line, error.Field, error.Id));
        Assert.Contains("10,485,760", error.Reason, StringComparison.Ordinal);
        Assert.Contains("1,000,000", error.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReadAsync_TenMegabyteQuotedFieldOverManyLines_RejectsAndResumesAtNextLine()
    {
        const int lines = 5_300;
        var huge = string.Concat(Enumerable.Repeat(new string('x', 1_999) + "\n", lines)); // ~10.6 M chars
        var csv = "id,title,description\nA,Good,ok\nB,Huge,\"" + huge + "\"\nC,Good,ok\n";

        var rows = await ReadAsync(csv);

        // The quoted field runs past the limit, so it is handled like a broken quote: the row is rejected and reading
        // resumes on line 4, whose continuation lines are rejected (wrong column count), until the good row C.
        var errors = rows.Errors();
        Assert.Equal((3L, "description", "B"), (errors[0].Line, errors[0].Field, errors[0].Id));
        Assert.Equal(["A", "C"], rows.Ids());
        Assert.Equal(3 + lines + 1, rows.Single(r => r.Product?.Id == "C").Line);
        Assert.All(errors.Skip(1).SkipLast(1), e => Assert.StartsWith("row has 1 columns", e.Reason, StringComparison.Ordinal));
    }

    [Fact]
    public async Task ReadAsync_TenMegabyteUnclosedQuotedField_RejectsAndResumesAtNextLine()
    {
        var huge = new string('z', 10 * 1024 * 1024);
        var csv = "id,title,description\nA,Good,ok\nB,Huge,\"" + huge + "\nC,Good,ok\n";

        var rows = await ReadAsync(csv);

        Assert.Equal(["A", "C"], rows.Ids());
        var error = rows.SingleError();
        Assert.Equal((3L, "description", "B"), (error.Line, error.Field, error.Id));
        Assert.Contains("not closed", error.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReadAsync_ColumnCountMismatch_RejectsRowNamingIt()
    {
        var rows = await ReadAsync(Header + "A,Good,1\nB,Too few\nC,Too,many,columns\nD,Good,4\n");

        Assert.Equal(["A", "D"], rows.Ids());
        var errors = rows.Errors();
        Assert.Equal(2, errors.Count);
        Assert.Equal((3L, "price", "B"), (errors[0].Line, errors[0].Field, errors[0].Id));
        Assert.Equal("row has 2 columns but the header has 3", errors[0].Reason);
        Assert.Equal((4L, (string?)null, "C"), (errors[1].Line, errors[1].Field, errors[1].Id));
        Assert.Equal("row has 4 columns but the header has 3", errors[1].Reason);
    }

    [Fact]
    public async Task ReadAsync_HeaderOnly_YieldsNoRows()
    {
        Assert.Empty(await ReadAsync("id,title,price\n"));
        Assert.Empty(await ReadAsync("id,title,price"));
    }

    [Theory]
    [InlineData("")]
    [InlineData("   \n\n\t\r\n")]
    [InlineData("\uFEFF")]
    public async Task ReadAsync_EmptyFile_ThrowsFileIsEmpty(string content)
    {
        var ex = await ThrowsFormatAsync(content);

        Assert.Equal("catalog.csv", ex.File);
        Assert.Contains("file is empty", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("sku,title\n", "'id'")]
    [InlineData("id,label\n", "'title'")]
    [InlineData("a,b\n", "'id' or 'title'")]
    public async Task ReadAsync_HeaderWithoutRequiredColumn_ThrowsNamingIt(string content, string missing)
    {
        var ex = await ThrowsFormatAsync(content);

        Assert.Equal(1, ex.Line);
        Assert.Contains(missing, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReadAsync_HeaderWithDuplicateColumn_Throws()
    {
        var ex = await ThrowsFormatAsync("\nid,title,Color,color\n");

        Assert.Equal(2, ex.Line);
        Assert.Contains("'color' twice", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReadAsync_SampleCatalog_ReadsEveryRow()
    {
        var rows = await ReadAsync(await File.ReadAllBytesAsync(SamplePath("catalog.csv")), "catalog.csv");

        Assert.Empty(rows.Errors());
        Assert.Equal(240, rows.Products().Count);
        Assert.Contains(rows.Products(), p => p.Brand == "小米");
    }

    [Fact]
    public async Task ReadAsync_SampleBadCatalog_ReportsTheFourBadRows()
    {
        var rows = await ReadAsync(await File.ReadAllBytesAsync(SamplePath("bad-catalog.csv")), "bad-catalog.csv");

        var errors = rows.Errors();
        Assert.Equal([(4L, "id"), (6L, "id"), (8L, "price"), (10L, "title")], errors.Select(e => (e.Line, e.Field!)));
        Assert.Equal(8, rows.Products().Count);
    }

    [Fact]
    public async Task ReadAsync_CancelledToken_StopsReading()
    {
        using var cts = new CancellationTokenSource();
        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(
            () => ReadAsync(Encoding.UTF8.GetBytes(Header + "A,One,1\n"), "catalog.csv", cts.Token));
    }

    [Fact]
    public async Task ReadAsync_ManyRows_SpansSeveralChunksInOrder()
    {
        var builder = new StringBuilder(Header);
        for (var i = 0; i < 2000; i++)
        {
            builder.Append(i).Append(",\"Item ").Append(i).Append("\",").Append(i % 7).Append('\n');
            if (i == 1500)
            {
                builder.Append("bad,row\n");
            }
        }

        var rows = await ReadAsync(builder.ToString());

        Assert.Equal(2001, rows.Count);
        Assert.Equal(Enumerable.Range(0, 2000).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)), rows.Ids());
        Assert.Equal(Enumerable.Range(2, 2001).Select(i => (long)i), rows.Select(r => r.Line));
        Assert.Equal(1503, rows.SingleError().Line);
    }
}
