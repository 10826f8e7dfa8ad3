using System.Globalization;
using System.Text;
using ProductSimilarity.Core.Indexing;
using ProductSimilarity.Core.Text;

namespace ProductSimilarity.Search.AzureAISearch;

/// <summary>Builds OData filters and simple-syntax search text for Azure AI Search from the port's query types.</summary>
/// <remarks>Stateless; thread-safe.</remarks>
internal static class AzureAISearchQuerySyntax
{
    // Delimiters tried in order for search.in; the first that occurs in no value is used.
    private const string DelimiterCandidates = "|,;~^`#!$%&*+=@";

    // Characters with a meaning in the simple (and full Lucene) query syntax. User text is a bag of words here.
    private const string QueryOperators = "+-&|!(){}[]^\"~*?:\\/";

    /// <summary>The OData <c>$filter</c> for a query, or null when nothing is filtered: the translation of
    /// <see cref="ProductQuery.Admits"/> (category and brand against the folded <c>categoryKey</c> / <c>brandKey</c> copies,
    /// attributes against the <c>attributeKeys</c> collection of <see cref="ProductFilter.AttributeTerms"/>).</summary>
    public static string? BuildFilter(ProductFilter filter, IReadOnlySet<string> excludeIds, IReadOnlySet<string> excludeGroupIds)
    {
        ArgumentNullException.ThrowIfNull(filter);
        var clauses = new List<string>();
        if (filter.Category is not null)
        {
            clauses.Add($"{AzureAISearchSchema.CategoryKey} eq {Literal(ProductFilter.Key(filter.Category))}");
        }

        if (filter.Brand is not null)
        {
            clauses.Add($"{AzureAISearchSchema.BrandKey} eq {Literal(ProductFilter.Key(filter.Brand))}");
        }

        if (filter.MinPrice is { } min)
        {
            clauses.Add($"{AzureAISearchSchema.Price} ge {min.ToString(CultureInfo.InvariantCulture)}");
        }

        if (filter.MaxPrice is { } max)
        {
            clauses.Add($"{AzureAISearchSchema.Price} le {max.ToString(CultureInfo.InvariantCulture)}");
        }

        if (filter.InStock is { } inStock)
        {
            clauses.Add($"{AzureAISearchSchema.InStock} eq {(inStock ? "true" : "false")}");
        }

        if (filter.Source is not null)
        {
            clauses.Add($"{AzureAISearchSchema.Source} eq {Literal(filter.Source)}");
        }

        if (filter.ExcludeSource is not null)
        {
            clauses.Add($"{AzureAISearchSchema.Source} ne {Literal(filter.ExcludeSource)}");
        }

        foreach (string term in filter.AttributeFilterTerms())
        {
            clauses.Add($"{AzureAISearchSchema.AttributeKeys}/any(t: t eq {Literal(term)})");
        }

        if (excludeIds.Count > 0)
        {
            clauses.Add($"not {In(AzureAISearchSchema.Id, excludeIds)}");
        }

        if (excludeGroupIds.Count > 0)
        {
            // Products without a group are never excluded by a group rule.
            clauses.Add($"({AzureAISearchSchema.GroupId} eq null or not {In(AzureAISearchSchema.GroupId, excludeGroupIds)})");
        }

        return clauses.Count == 0 ? null : string.Join(" and ", clauses);
    }

    /// <summary>
    /// A membership test: <c>search.in(field, 'a|b', '|')</c> with a delimiter that occurs in no value, or, when every
    /// candidate delimiter occurs somewhere, a parenthesised chain of <c>eq</c> comparisons.
    /// </summary>
    public static string In(string field, IEnumerable<string> values)
    {
        List<string> list = values as List<string> ?? [.. values];
        if (list.Count == 0)
        {
            throw new ArgumentException("At least one value is required.", nameof(values));
        }

        char? delimiter = ChooseDelimiter(list);
        if (delimiter is null)
        {
            return "(" + string.Join(" or ", list.Select(v => $"{field} eq {Literal(v)}")) + ")";
        }

        string joined = string.Join(delimiter.Value, list);
        return $"search.in({field}, {Literal(joined)}, {Literal(delimiter.Value.ToString())})";
    }

    /// <summary>An OData string literal: single quotes doubled.</summary>
    public static string Literal(string value) => "'" + value.Replace("'", "''", StringComparison.Ordinal) + "'";

    /// <summary>
    /// Turns user text into simple-syntax search text that cannot fail to parse or change meaning: operator characters
    /// become spaces, so the text is a bag of terms matched with <c>searchMode=any</c>. Returns null when no term remains.
    /// </summary>
    public static string? ToSimpleQueryText(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        var sb = new StringBuilder(text.Length);
        bool pendingSpace = false;
        foreach (char c in text)
        {
            if (char.IsWhiteSpace(c) || char.IsControl(c) || QueryOperators.Contains(c, StringComparison.Ordinal))
            {
                pendingSpace = sb.Length > 0;
                continue;
            }

            if (pendingSpace)
            {
                sb.Append(' ');
                pendingSpace = false;
            }

            sb.Append(c);
        }

        return sb.Length == 0 ? null : sb.ToString();
    }

    /// <summary>
    /// <paramref name="searchText"/> with the product codes of <paramref name="queryText"/> (normal form) and their
    /// near-match keys appended, each once, so they meet the keyword-analysed codes fields; the text as it is when it
    /// holds no code. Codes are letters and digits only, so they need no escaping.
    /// </summary>
    public static string? WithCodes(string? searchText, string? queryText)
    {
        if (searchText is null)
        {
            return null;
        }

        var codes = ProductCodes.Extract(queryText, 64);
        if (codes.Count == 0)
        {
            return searchText;
        }

        var present = searchText.Split(' ').ToHashSet(StringComparer.Ordinal);
        var extra = codes.Concat(ProductCodes.BaseForms(codes)).Where(present.Add).ToList();
        return extra.Count == 0 ? searchText : $"{searchText} {string.Join(' ', extra)}";
    }

    private static char? ChooseDelimiter(List<string> values)
    {
        foreach (char candidate in DelimiterCandidates)
        {
            bool used = false;
            foreach (string v in values)
            {
                if (v.Contains(candidate, StringComparison.Ordinal))
                {
                    used = true;
                    break;
                }
            }

            if (!used)
            {
                return candidate;
            }
        }

        return null;
    }
}
