using System.Globalization;
using System.Text.Json.Nodes;

namespace ProductSimilarity.Search.Tests.Filters;

/// <summary>
/// Evaluates the subset of the Azure AI Search OData filter language our query builder writes (<c>and</c>, <c>or</c>,
/// <c>not</c>, parentheses, <c>eq ne gt ge lt le</c> against string, number, boolean and null literals, and
/// <c>search.in(field, 'a|b', '|')</c>, and <c>collection/any(t: t eq 'value')</c> over a string collection) over a search
/// document's JSON, as the service would. Anything else throws, so a
/// builder that writes a construct the evaluator does not know fails the test rather than passing it.
/// </summary>
internal sealed class ODataFilterEvaluator
{
    private readonly List<string> _tokens;
    private readonly JsonObject _document;
    private int _position;

    private ODataFilterEvaluator(string filter, JsonObject document)
    {
        _tokens = Tokenize(filter);
        _document = document;
    }

    /// <summary>Whether <paramref name="document"/> passes <paramref name="filter"/> (null: no filter).</summary>
    public static bool Matches(string? filter, JsonObject document)
    {
        if (filter is null)
        {
            return true;
        }

        var evaluator = new ODataFilterEvaluator(filter, document);
        bool result = evaluator.Or();
        if (evaluator._position != evaluator._tokens.Count)
        {
            throw new FormatException($"Unexpected '{evaluator._tokens[evaluator._position]}' in filter: {filter}");
        }

        return result;
    }

    private bool Or()
    {
        bool value = And();
        while (Accept("or"))
        {
            value |= And();
        }

        return value;
    }

    private bool And()
    {
        bool value = Unary();
        while (Accept("and"))
        {
            value &= Unary();
        }

        return value;
    }

    private bool Unary()
    {
        if (Accept("not"))
        {
            return !Unary();
        }

        if (Accept("("))
        {
            bool inner = Or();
            Expect(")");
            return inner;
        }

        if (Accept("search.in"))
        {
            Expect("(");
            string field = Next();
            Expect(",");
            string values = StringLiteral(Next());
            Expect(",");
            string delimiter = StringLiteral(Next());
            Expect(")");
            return Field(field) is JsonValue v && values.Split(delimiter).Contains(v.GetValue<string>(), StringComparer.Ordinal);
        }

        if (_position < _tokens.Count && _tokens[_position].EndsWith("/any", StringComparison.Ordinal))
        {
            string collection = Next()[..^"/any".Length];
            Expect("(");
            string variable = Next();
            if (!variable.EndsWith(':') || Next() != variable[..^1])
            {
                throw new FormatException($"Expected 'x: x eq ...' in any(), got '{variable}'.");
            }

            Expect("eq");
            string value = StringLiteral(Next());
            Expect(")");
            return Field(collection) is JsonArray items && items.Any(item => item?.GetValue<string>() == value);
        }

        string name = Next();
        string op = Next();
        JsonNode? left = Field(name);
        object? right = Literal(Next());
        int? order = Compare(left, right);
        return op switch
        {
            "eq" => order == 0,
            "ne" => order != 0,
            "gt" => order > 0,
            "ge" => order >= 0,
            "lt" => order < 0,
            "le" => order <= 0,
            _ => throw new FormatException($"Unknown operator '{op}'."),
        };
    }

    // Null when either side is null (then only eq/ne null are meaningful), as in OData.
    private static int? Compare(JsonNode? left, object? right)
    {
        if (left is null || right is null)
        {
            return left is null && right is null ? 0 : null;
        }

        return right switch
        {
            string s => string.CompareOrdinal(left.GetValue<string>(), s),
            bool b => left.GetValue<bool>() == b ? 0 : 1,
            double d => left.GetValue<double>().CompareTo(d),
            _ => throw new FormatException("Unknown literal."),
        };
    }

    private JsonNode? Field(string name)
    {
        if (!char.IsLetter(name[0]))
        {
            throw new FormatException($"Expected a field name, got '{name}'.");
        }

        return _document.TryGetPropertyValue(name, out JsonNode? node) ? node : null;
    }

    private static object? Literal(string token) => token switch
    {
        "null" => null,
        "true" => true,
        "false" => false,
        _ when token.StartsWith('\'') => StringLiteral(token),
        _ => double.Parse(token, NumberStyles.Float, CultureInfo.InvariantCulture),
    };

    private static string StringLiteral(string token)
    {
        if (token.Length < 2 || token[0] != '\'' || token[^1] != '\'')
        {
            throw new FormatException($"Expected a string literal, got {token}.");
        }

        return token[1..^1].Replace("''", "'", StringComparison.Ordinal);
    }

    private bool Accept(string token)
    {
        if (_position < _tokens.Count && _tokens[_position] == token)
        {
            _position++;
            return true;
        }

        return false;
    }

    private void Expect(string token)
    {
        if (!Accept(token))
        {
            throw new FormatException($"Expected '{token}' at token {_position}.");
        }
    }

    private string Next() => _position < _tokens.Count ? _tokens[_position++] : throw new FormatException("Unexpected end of filter.");

    private static List<string> Tokenize(string filter)
    {
        var tokens = new List<string>();
        int i = 0;
        while (i < filter.Length)
        {
            char c = filter[i];
            if (c == ' ')
            {
                i++;
            }
            else if (c is '(' or ')' or ',')
            {
                tokens.Add(c.ToString());
                i++;
            }
            else if (c == '\'')
            {
                int start = i++;
                while (true)
                {
                    if (filter[i] == '\'' && (i + 1 == filter.Length || filter[i + 1] != '\''))
                    {
                        break;
                    }

                    i += filter[i] == '\'' ? 2 : 1;
                }

                tokens.Add(filter[start..(i + 1)]);
                i++;
            }
            else
            {
                int start = i;
                while (i < filter.Length && filter[i] is not (' ' or '(' or ')' or ','))
                {
                    i++;
                }

                tokens.Add(filter[start..i]);
            }
        }

        return tokens;
    }
}
