using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;

namespace ProductSimilarity.Core.Configuration;

/// <summary>
/// Validation of <see cref="ProductSimilarityOptions"/>, run on start: the DataAnnotations of every section marked
/// <see cref="ValidateObjectMembersAttribute"/> and the cross-field rules of <see cref="ProductSimilarityOptions.Validate"/>.
/// Each failure names its configuration key, e.g. <c>ProductSimilarity:Ranking:RrfK: The field RrfK must be between 1
/// and 1000.</c>
/// </summary>
/// <remarks>
/// The walk over the sections is source-generated (<see cref="ProductSimilarityOptionsAnnotations"/>, no reflection);
/// this class only runs it under the section name and writes the generated <c>Member: The field Section.Path.Member ...</c>
/// messages with the configuration key first, the form the docs and the CLI show. Stateless; thread-safe.
/// </remarks>
public sealed partial class ProductSimilarityOptionsValidator : IValidateOptions<ProductSimilarityOptions>
{
    private static readonly ProductSimilarityOptionsAnnotations Annotations = new();

    /// <inheritdoc/>
    public ValidateOptionsResult Validate(string? name, ProductSimilarityOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var result = Annotations.Validate(ProductSimilarityOptions.SectionName, options);
        return result.Failed
            ? ValidateOptionsResult.Fail(result.Failures.Select(KeyFirst))
            : ValidateOptionsResult.Success;
    }

    /// <summary>Analyzers accepted for Azure AI Search text fields (see <see cref="ProductSimilarityOptions.AllowedAnalyzers"/>).</summary>
    public static IReadOnlyList<string> AllowedAnalyzers => ProductSimilarityOptions.AllowedAnalyzers;

    // "RrfK: The field ProductSimilarity.Ranking.RrfK must be ..." -> "ProductSimilarity:Ranking:RrfK: The field RrfK must be ...".
    private static string KeyFirst(string failure)
    {
        var match = GeneratedFailure().Match(failure);
        return match.Success
            ? $"{match.Groups["path"].Value.Replace('.', ':')}: The field {match.Groups["member"].Value} {match.Groups["rest"].Value}"
            : failure;
    }

    [GeneratedRegex(@"^(?<member>\w+): The field (?<path>[\w.]+) (?<rest>.*)$", RegexOptions.Singleline | RegexOptions.CultureInvariant)]
    private static partial Regex GeneratedFailure();
}

/// <summary>The source-generated DataAnnotations walk of <see cref="ProductSimilarityOptions"/> and its sections.</summary>
[OptionsValidator]
internal sealed partial class ProductSimilarityOptionsAnnotations : IValidateOptions<ProductSimilarityOptions>
{
}
