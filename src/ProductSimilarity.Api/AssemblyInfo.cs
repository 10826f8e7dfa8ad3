namespace ProductSimilarity.Api;
