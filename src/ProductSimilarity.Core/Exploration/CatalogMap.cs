using System.Numerics.Tensors;
using ProductSimilarity.Core.Indexing;

namespace ProductSimilarity.Core.Exploration;

/// <summary>One product placed on the catalog map.</summary>
/// <param name="Id">The product id.</param>
/// <param name="Title">The product title.</param>
/// <param name="Category">The product category, when it has one.</param>
/// <param name="Brand">The product brand, when it has one.</param>
/// <param name="X">Coordinate on the first principal component.</param>
/// <param name="Y">Coordinate on the second principal component.</param>
public sealed record CatalogMapPoint(string Id, string Title, string? Category, string? Brand, double X, double Y);

/// <summary>The catalog's product vectors projected to two dimensions.</summary>
/// <param name="Points">One point per product, in the order given.</param>
/// <param name="ExplainedVariance">Share of the total variance that each of the two axes carries (0..1).</param>
public sealed record CatalogMap(IReadOnlyList<CatalogMapPoint> Points, IReadOnlyList<double> ExplainedVariance);

/// <summary>
/// Projects product embeddings to 2-D with principal component analysis, so a shop sees its catalog's shape at a
/// glance: products the model finds alike land close together.
/// </summary>
/// <remarks>
/// <para>
/// The two leading principal components are found by power iteration on the centred data (each step multiplies by
/// Xᵀ X without forming the d × d covariance matrix), the second orthogonalised against the first: O(iterations · n · d)
/// time and O(n · d) memory, which for 5,000 products of 384 dimensions is a few hundred milliseconds. The start vector
/// is fixed and each axis's sign is chosen so that its largest coordinate is positive, so the same catalog always
/// gives the same picture.
/// </para>
/// <para>Stateless; thread-safe.</para>
/// </remarks>
public static class CatalogMapProjector
{
    private const int MaxIterations = 200;
    private const double Tolerance = 1e-9;

    /// <summary>Projects <paramref name="products"/> (all with vectors of one length) onto their two main axes.</summary>
    /// <exception cref="ArgumentException">The vectors do not all have the same length.</exception>
    public static CatalogMap Project(IReadOnlyList<IndexedProduct> products)
    {
        ArgumentNullException.ThrowIfNull(products);
        if (products.Count == 0)
        {
            return new CatalogMap([], [0, 0]);
        }

        var d = products[0].Vector.Length;
        var n = products.Count;
        var data = new float[n * d];
        for (var i = 0; i < n; i++)
        {
            var v = products[i].Vector.Span;
            if (v.Length != d)
            {
                throw new ArgumentException($"product '{products[i].Id}' has a {v.Length}-dimensional vector; the others have {d}.", nameof(products));
            }

            v.CopyTo(data.AsSpan(i * d, d));
        }

        var mean = new float[d];
        for (var i = 0; i < n; i++)
        {
            TensorPrimitives.Add(mean, data.AsSpan(i * d, d), mean);
        }

        TensorPrimitives.Divide(mean, n, mean);
        double total = 0;
        for (var i = 0; i < n; i++)
        {
            var row = data.AsSpan(i * d, d);
            TensorPrimitives.Subtract(row, mean, row);
            total += TensorPrimitives.Dot(row, row);
        }

        var first = LeadingAxis(data, n, d, null);
        var second = LeadingAxis(data, n, d, first);
        var xs = Scores(data, n, d, first);
        var ys = Scores(data, n, d, second);
        var points = new CatalogMapPoint[n];
        for (var i = 0; i < n; i++)
        {
            var p = products[i].Product;
            points[i] = new CatalogMapPoint(p.Id, p.Title, p.Category, p.Brand, Math.Round(xs[i], 5), Math.Round(ys[i], 5));
        }

        double Share(float[] s) => total <= 0 ? 0 : Math.Round(TensorPrimitives.Dot(s, s) / total, 4);
        return new CatalogMap(points, [Share(xs), Share(ys)]);
    }

    private static float[] LeadingAxis(float[] data, int n, int d, float[]? orthogonalTo)
    {
        var axis = new float[d];
        var random = new Random(17);
        for (var j = 0; j < d; j++)
        {
            axis[j] = (float)(random.NextDouble() - 0.5);
        }

        Orthogonalise(axis, orthogonalTo);
        if (!Normalise(axis))
        {
            return axis;
        }

        var next = new float[d];
        for (var iteration = 0; iteration < MaxIterations; iteration++)
        {
            Array.Clear(next);
            for (var i = 0; i < n; i++)
            {
                var row = data.AsSpan(i * d, d);
                var score = TensorPrimitives.Dot(row, axis);
                TensorPrimitives.MultiplyAdd(row, score, next, next);
            }

            Orthogonalise(next, orthogonalTo);
            if (!Normalise(next))
            {
                Array.Clear(axis); // no variance left in this direction (e.g. one product, or all identical)
                return axis;
            }

            var change = 1 - Math.Abs(TensorPrimitives.Dot(next, axis));
            (axis, next) = (next, axis);
            if (change < Tolerance)
            {
                break;
            }
        }

        if (axis[TensorPrimitives.IndexOfMaxMagnitude(axis)] < 0)
        {
            TensorPrimitives.Negate(axis, axis);
        }

        return axis;
    }

    private static float[] Scores(float[] data, int n, int d, float[] axis)
    {
        var scores = new float[n];
        for (var i = 0; i < n; i++)
        {
            scores[i] = TensorPrimitives.Dot(data.AsSpan(i * d, d), axis);
        }

        return scores;
    }

    private static void Orthogonalise(float[] vector, float[]? against)
    {
        if (against is not null)
        {
            TensorPrimitives.MultiplyAdd(against, -TensorPrimitives.Dot(vector, against), vector, vector);
        }
    }

    private static bool Normalise(float[] vector)
    {
        var norm = TensorPrimitives.Norm(vector);
        if (norm < 1e-12f)
        {
            return false;
        }

        TensorPrimitives.Divide(vector, norm, vector);
        return true;
    }
}
