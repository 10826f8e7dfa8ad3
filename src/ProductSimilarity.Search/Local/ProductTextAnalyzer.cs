using Lucene.Net.Analysis;
using Lucene.Net.Analysis.Cjk;
using Lucene.Net.Analysis.Core;
using Lucene.Net.Analysis.En;
using Lucene.Net.Analysis.Miscellaneous;
using Lucene.Net.Analysis.Standard;
using Lucene.Net.Analysis.TokenAttributes;
using Lucene.Net.Util;

namespace ProductSimilarity.Search.Local;

/// <summary>
/// The analyser of the embedded index's searchable text: English and Chinese in one pass.
/// <c>StandardTokenizer -&gt; CJKWidthFilter -&gt; LowerCaseFilter -&gt; CJKBigramFilter -&gt; EnglishPossessiveFilter
/// -&gt; (tokens with digits marked as keywords) -&gt; PorterStemFilter</c>.
/// </summary>
/// <remarks>
/// <para>Chinese text becomes overlapping bigrams (<c>无线蓝牙耳机</c> gives <c>无线 线蓝 蓝牙 牙耳 耳机</c>), so a query
/// matches without a dictionary; a lone CJK character stays a unigram. Measured against dictionary segmenters on the
/// Chinese evaluation set (samples/zh-eval, keyword recall@1): bigrams 0.941, jieba.NET search mode 0.930, Lucene SmartCn
/// 0.920; shop titles are full of brand and model names that no dictionary knows. Product codes are matched through
/// their own field (<see cref="ProductSimilarity.Core.Text.ProductCodes"/>).</para>
/// <para>Porter rather than KStem: product titles from different shops differ mostly in inflection and derivation
/// (<c>headphones</c>/<c>headphone</c>, <c>cancelling</c>/<c>cancel</c>, <c>editing</c>/<c>edit</c>), and the more
/// aggressive stemmer matches more of them; BM25's idf keeps the occasional over-stemmed collision cheap. Tokens that
/// contain a digit (<c>ps4</c>, <c>1000xm4</c>, <c>2007</c>) are never stemmed, so model numbers survive intact.</para>
/// <para>Thread-safe: Lucene analysers reuse per-thread token stream components.</para>
/// </remarks>
internal sealed class ProductTextAnalyzer : Analyzer
{
    internal const LuceneVersion Version = LuceneVersion.LUCENE_48;

    /// <inheritdoc/>
    protected override TokenStreamComponents CreateComponents(string fieldName, TextReader reader)
    {
        var tokenizer = new StandardTokenizer(Version, reader);
        TokenStream stream = new CJKWidthFilter(tokenizer);
        stream = new LowerCaseFilter(Version, stream);
        stream = new CJKBigramFilter(stream);
        stream = new EnglishPossessiveFilter(Version, stream);
        stream = new DigitKeywordMarkerFilter(stream);
        stream = new PorterStemFilter(stream);
        return new TokenStreamComponents(tokenizer, stream);
    }

    /// <summary>Analyses <paramref name="text"/> into distinct terms, in order of first appearance.</summary>
    /// <param name="text">The text.</param>
    /// <param name="max">The most terms to return.</param>
    internal IReadOnlyList<string> Terms(string text, int max)
    {
        var terms = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        using var stream = GetTokenStream(ProductFields.Title, text);
        var term = stream.AddAttribute<ICharTermAttribute>();
        stream.Reset();
        while (terms.Count < max && stream.IncrementToken())
        {
            string value = term.ToString();
            if (seen.Add(value))
            {
                terms.Add(value);
            }
        }

        stream.End();
        return terms;
    }

    private sealed class DigitKeywordMarkerFilter(TokenStream input) : KeywordMarkerFilter(input)
    {
        private readonly ICharTermAttribute _term = input.AddAttribute<ICharTermAttribute>();

        protected override bool IsKeyword()
        {
            var buffer = _term.Buffer;
            for (int i = 0; i < _term.Length; i++)
            {
                if (char.IsAsciiDigit(buffer[i]))
                {
                    return true;
                }
            }

            return false;
        }
    }
}
