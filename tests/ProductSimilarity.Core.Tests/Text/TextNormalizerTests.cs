using System.Text;
using ProductSimilarity.Core.Catalog;
using ProductSimilarity.Core.Text;

namespace ProductSimilarity.Core.Tests.Text;

public sealed class TextNormalizerTests
{
    private static readonly TextNormalizer Normalizer = TextNormalizer.Default;

    private static string? Clean(string? text, int max = TextNormalizer.MaxDescriptionLength) => Normalizer.Clean(text, max);

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("\t\r\n\u3000")]
    [InlineData("<p> </p><br/>")]
    [InlineData("&nbsp;&nbsp;")]
    [InlineData("\u200B\u0000")]
    public void Clean_NullOrBlank_ReturnsNull(string? text)
    {
        Assert.Null(Clean(text));
    }

    [Theory]
    [InlineData("<p>Hello <b>world</b></p><ul><li>One</li><li>Two</li></ul>", "Hello world One Two")]
    [InlineData("wire<b>less</b> <span class=\"x\">head</span>phones", "wireless headphones")]
    [InlineData("Line1<br>Line2<br/>Line3<BR />Line4<p>Para</p>", "Line1 Line2 Line3 Line4 Para")]
    [InlineData("<div><h2>Specs</h2><table><tr><td>Weight</td><td>1 kg</td></tr></table></div>", "Specs Weight 1 kg")]
    [InlineData("Before<script type=\"text/javascript\">var x = '<b>' + 1;</script>After", "Before After")]
    [InlineData("A<style>.x { color: red; }</style>B<STYLE>p{}</STYLE>C", "A B C")]
    [InlineData("Keep <!-- hidden <b>comment</b> --> this", "Keep this")]
    [InlineData("<!DOCTYPE html><html><body>Text</body></html>", "Text")]
    public void Clean_Html_StripsTagsAndBlockTagsBecomeSpaces(string html, string expected)
    {
        Assert.Equal(expected, Clean(html));
    }

    [Theory]
    [InlineData("size < 10 and weight > 5", "size < 10 and weight > 5")]
    [InlineData("a<1 b", "a<1 b")]
    [InlineData("x <", "x <")]
    [InlineData("unclosed <b tag", "unclosed <b tag")]
    public void Clean_AngleBracketsThatAreNotTags_AreKept(string text, string expected)
    {
        Assert.Equal(expected, Clean(text));
    }

    [Theory]
    [InlineData("Fish &amp; Chips&nbsp;&quot;Best&quot; &#169; &#x4E2D;", "Fish & Chips \"Best\" © 中")]
    [InlineData("&lt;b&gt;not a tag&lt;/b&gt;", "<b>not a tag</b>")]
    [InlineData("AT&T & co", "AT&T & co")]
    public void Clean_Entities_AreDecoded(string text, string expected)
    {
        Assert.Equal(expected, Clean(text));
    }

    [Theory]
    [InlineData("ＡＢＣ１２３", "ABC123")]
    [InlineData("ｉＰｈｏｎｅ　１５　Ｐｒｏ", "iPhone 15 Pro")]
    [InlineData("ﾃﾚﾋﾞ", "テレビ")]
    [InlineData("ﬁne ligature", "fine ligature")]
    public void Clean_FullWidthAndCompatibilityForms_AreNfkcNormalised(string text, string expected)
    {
        Assert.Equal(expected, Clean(text));
    }

    [Theory]
    [InlineData("无线蓝牙耳机 降噪", "无线蓝牙耳机 降噪")]
    [InlineData("小米 Redmi Buds 5 Pro 真无线蓝牙耳机。", "小米 Redmi Buds 5 Pro 真无线蓝牙耳机。")]
    [InlineData("无线蓝牙耳机，降噪！（黑色）", "无线蓝牙耳机,降噪!(黑色)")]
    [InlineData("<p>免滤设计，</p><p>打完即饮。</p>", "免滤设计, 打完即饮。")]
    [InlineData("九阳　豆浆机", "九阳 豆浆机")]
    public void Clean_ChineseText_IsKeptIntact(string text, string expected)
    {
        Assert.Equal(expected, Clean(text));
    }

    [Theory]
    [InlineData("a\u0000b\u0007c\u001Fd", "abcd")]
    [InlineData("zero\u200Bwidth soft\u00ADhyphen\uFEFF", "zerowidth softhyphen")]
    [InlineData("  a \t\n b\r\n\u3000c\u00A0 d  ", "a b c d")]
    [InlineData("tab\tseparated\vvalues", "tab separated values")]
    public void Clean_ControlCharactersAndWhitespace_AreRemovedOrCollapsed(string text, string expected)
    {
        Assert.Equal(expected, Clean(text));
    }

    [Fact]
    public void Clean_LongText_IsCappedAtAWordBoundary()
    {
        var text = string.Join(' ', Enumerable.Repeat("wireless", 100)); // 899 chars

        var cleaned = Clean(text, 50)!;

        Assert.Equal("wireless wireless wireless wireless wireless", cleaned);
    }

    [Fact]
    public void Clean_LongTextWithoutSpaces_IsCutExactly()
    {
        var text = string.Concat(Enumerable.Repeat("无线蓝牙耳机", 100));

        var cleaned = Clean(text, TextNormalizer.MaxTitleLength)!;

        Assert.Equal(TextNormalizer.MaxTitleLength, cleaned.Length);
        Assert.StartsWith(cleaned, text, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    public void Clean_CapInsideASurrogatePair_NeverSplitsIt(int prefix)
    {
        var text = new string('a', prefix) + string.Concat(Enumerable.Repeat("𠀀", 300));

        var cleaned = Clean(text, TextNormalizer.MaxTitleLength)!;

        Assert.True(cleaned.Length <= TextNormalizer.MaxTitleLength);
        Assert.True(cleaned.Length >= TextNormalizer.MaxTitleLength - 1);
        Assert.False(char.IsHighSurrogate(cleaned[^1]));
        Assert.Equal(cleaned.Length, Encoding.UTF8.GetString(Encoding.UTF8.GetBytes(cleaned)).Length);
        Assert.DoesNotContain('\uFFFD', Encoding.UTF8.GetString(Encoding.UTF8.GetBytes(cleaned)));
    }

    [Fact]
    public void Clean_CapBetweenABaseAndItsCombiningMark_DropsBoth()
    {
        var text = new string('x', 9) + "\u00E9\u0301yy"; // é followed by a second (non-composing) acute accent

        Assert.Equal(new string('x', 9), Clean(text, 10));
        Assert.Equal(new string('x', 9) + "\u00E9\u0301", Clean(text, 11));
    }

    [Fact]
    public void Clean_UnpairedSurrogates_AreRemoved()
    {
        Assert.Equal("ab𠀀c", Clean("a\uD800b𠀀\uDC00c"));
    }

    [Fact]
    public void Clean_TenMegabyteHtml_IsCappedWithoutBlowingUp()
    {
        var builder = new StringBuilder(10 * 1024 * 1024 + 100);
        while (builder.Length < 10 * 1024 * 1024)
        {
            builder.Append("<p>Great <b>value</b> &amp; quality</p>\n");
        }

        var cleaned = Clean(builder.ToString())!;

        Assert.True(cleaned.Length <= TextNormalizer.MaxDescriptionLength);
        Assert.True(cleaned.Length > TextNormalizer.MaxDescriptionLength - 40);
        Assert.StartsWith("Great value & quality Great value", cleaned, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("<a")]
    [InlineData("<!--")]
    [InlineData("<script>")]
    [InlineData("& ")]
    public void Clean_TenMegabytesOfHostileMarkup_Finishes(string unit)
    {
        var text = string.Concat(Enumerable.Repeat(unit, 10 * 1024 * 1024 / unit.Length));

        var cleaned = Clean(text);

        Assert.True(cleaned is null || cleaned.Length <= TextNormalizer.MaxDescriptionLength);
    }

    [Fact]
    public void Clean_NonPositiveMaxLength_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Normalizer.Clean("x", 0));
    }

    [Fact]
    public void Normalize_Product_CleansTextFieldsAndTrimsId()
    {
        var product = new Product
        {
            Id = "  P1 ",
            Title = "<b>ＳＯＮＹ</b>  Earbuds&nbsp;Pro",
            Description = "<p>Noise&amp;cancelling</p><script>evil()</script>",
            Brand = " Sony\u200B ",
            Category = "Electronics &gt; Audio",
            Currency = " usd ",
            Price = 10m,
            InStock = true,
            GroupId = " G1 ",
            ImageUrl = "https://x/y.jpg",
            Source = "feed",
            Deleted = false,
            Attributes = new Dictionary<string, string> { ["color"] = " <i>Black</i> ", ["size"] = "  ", ["型号"] = "ＷＦ－１０００ＸＭ５" },
        };

        var n = Normalizer.Normalize(product);

        Assert.Equal("P1", n.Id);
        Assert.Equal("SONY Earbuds Pro", n.Title);
        Assert.Equal("Noise&cancelling", n.Description);
        Assert.Equal("Sony", n.Brand);
        Assert.Equal("Electronics > Audio", n.Category);
        Assert.Equal("USD", n.Currency);
        Assert.Equal(10m, n.Price);
        Assert.True(n.InStock);
        Assert.Equal(" G1 ", n.GroupId);
        Assert.Equal(new Dictionary<string, string> { ["color"] = "Black", ["型号"] = "WF-1000XM5" }, n.Attributes);
    }

    [Fact]
    public void Normalize_BlankOptionalFields_BecomeNullAndTitleEmpty()
    {
        var n = Normalizer.Normalize(new Product { Id = "A", Title = "<br>", Description = " ", Brand = "" });

        Assert.Equal(string.Empty, n.Title);
        Assert.Null(n.Description);
        Assert.Null(n.Brand);
        Assert.Empty(n.Attributes);
    }

    [Fact]
    public void Normalize_LongTitle_IsCapped()
    {
        var n = Normalizer.Normalize(new Product { Id = "A", Title = new string('t', 2000) });

        Assert.Equal(TextNormalizer.MaxTitleLength, n.Title.Length);
    }

    [Theory]
    [InlineData("Sony WF-1000XM5", "sony wf-1000xm5")]
    [InlineData("Déjà VU", "déjà vu")]
    [InlineData("无线 ABC", "无线 abc")]
    public void ForKeywords_Text_IsLowerCasedInvariantly(string text, string expected)
    {
        Assert.Equal(expected, Normalizer.ForKeywords(text));
    }
}
