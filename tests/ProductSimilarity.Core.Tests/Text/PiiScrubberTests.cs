using ProductSimilarity.Core.Catalog;
using ProductSimilarity.Core.Text;

namespace ProductSimilarity.Core.Tests.Text;

public sealed class PiiScrubberTests
{
    private static string? Scrub(string? text) => PiiScrubber.Default.Scrub(text);

    [Theory]
    [InlineData("Questions? Mail jane.doe+shop@example.co.uk today", "Questions? Mail [email] today")]
    [InlineData("联系 wang_li@qq.com 获取优惠", "联系 [email] 获取优惠")]
    [InlineData("Call +1 (415) 555-0100 now", "Call [phone] now")]
    [InlineData("Call (415) 555-0100 now", "Call [phone] now")]
    [InlineData("Call 415-555-0100 or 415.555.0199", "Call [phone] or [phone]")]
    [InlineData("客服电话 138 0013 8000", "客服电话 [phone]")]
    [InlineData("客服电话13800138000，欢迎咨询", "客服电话[phone]，欢迎咨询")]
    [InlineData("Tel +86 138 0013 8000", "Tel [phone]")]
    [InlineData("座机 010-12345678", "座机 [phone]")]
    [InlineData("UK office +44 20 7946 0958.", "UK office [phone].")]
    [InlineData("Paid with 4111 1111 1111 1111 yesterday", "Paid with [card] yesterday")]
    [InlineData("card 5500-0000-0000-0004", "card [card]")]
    [InlineData("see https://shop.example/p/42?email=a%40b.c&token=xyz for more", "see https://shop.example/p/42 for more")]
    [InlineData("tracking http://t.example/x#user=9", "tracking http://t.example/x")]
    public void Scrub_PersonalData_Masked(string input, string expected) => Assert.Equal(expected, Scrub(input));

    [Theory]
    [InlineData("Sony WH-1000XM4 wireless headphones, 30 h battery")]
    [InlineData("Size 1200 x 800 mm, 25 kg, model 2024-11")]
    [InlineData("GTIN 4006381333931 on the box")] // fails the Luhn check: kept
    [InlineData("Order number 1234567890123 is not a card")] // 13 digits, fails Luhn
    [InlineData("See https://shop.example/p/42 for more")] // no query string
    [InlineData("ISBN 978-3-16-148410-0")]
    [InlineData("电压 220V 功率 1800W 容量 1.5L")]
    [InlineData("")]
    public void Scrub_ProductText_Unchanged(string input) => Assert.Equal(input, Scrub(input));

    [Fact]
    public void Scrub_Null_Null() => Assert.Null(Scrub(null));

    [Theory]
    [InlineData("4111111111111111", true)]
    [InlineData("4111 1111 1111 1112", false)]
    [InlineData("79927398713", false)] // valid Luhn, but too short for a card
    [InlineData("378282246310005", true)]
    public void IsLuhnValid_Numbers_Checked(string number, bool expected) => Assert.Equal(expected, PiiScrubber.IsLuhnValid(number));

    [Fact]
    public void Normalize_DescriptionAndReviews_ScrubbedTitleAndCodesKept()
    {
        var product = new Product
        {
            Id = "P1",
            Title = "Kettle 415-555-0100",
            Description = "<p>Ask <b>me@example.com</b> or call 138 0013 8000</p>",
            Attributes = new Dictionary<string, string> { ["review"] = "Great! Card 4111111111111111", ["gtin"] = "4111111111111111" },
        };

        var n = TextNormalizer.Default.Normalize(product);

        Assert.Equal("Kettle 415-555-0100", n.Title);
        Assert.Equal("Ask [email] or call [phone]", n.Description);
        Assert.Equal("Great! Card [card]", n.Attributes["review"]);
        Assert.Equal("4111111111111111", n.Attributes["gtin"]);
    }

    [Fact]
    public void Normalize_WithoutPiiScrubbing_TextKept()
    {
        var product = new Product { Id = "P1", Title = "Kettle", Description = "Mail me@example.com" };

        Assert.Equal("Mail me@example.com", TextNormalizer.WithoutPiiScrubbing.Normalize(product).Description);
    }

    [Fact]
    public void Scrub_LongAdversarialText_Finishes()
    {
        var text = string.Concat(Enumerable.Repeat("1-2 3-4 a@b ", 20_000));

        var scrubbed = Scrub(text);

        Assert.NotNull(scrubbed);
    }
}
