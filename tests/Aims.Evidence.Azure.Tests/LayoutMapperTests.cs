using System.Text.Json;
using Aims.Evidence.Azure.DocumentIntelligence;
using Aims.Evidence.Core.Extraction;

namespace Aims.Evidence.Azure.Tests;

public sealed class LayoutMapperTests
{
    private static ExtractedDocument Map(string json, ExtractionLimits? limits = null)
    {
        using var doc = JsonDocument.Parse(json);
        return LayoutMapper.Map(doc.RootElement, MediaTypes.Pdf, limits);
    }

    [Fact]
    public void Paragraphs_without_spans_keep_service_order_and_default_to_page_one()
    {
        var result = Map("""
            { "pages": [ {"pageNumber":1} ],
              "paragraphs": [ {"content":"First"}, {"role":"footnote","content":"Second"}, {"content":"   "} ] }
            """);
        Assert.Equal(["First", "Second"], result.Blocks.Select(b => b.Text));
        Assert.All(result.Blocks, b => Assert.Equal(1, b.Page));
        Assert.Null(result.Title);
    }

    [Fact]
    public void An_empty_result_is_an_empty_document()
    {
        var result = Map("""{ "pages": [] }""");
        Assert.Empty(result.Blocks);
        Assert.Equal(1, result.PageCount);
    }

    [Fact]
    public void Page_limit_rejects_the_document()
    {
        var pages = string.Join(",", Enumerable.Range(1, 5).Select(i => $$"""{"pageNumber":{{i}}}"""));
        var ex = Assert.Throws<DocumentRejectedException>(() => Map($$"""{ "pages": [{{pages}}] }""", new ExtractionLimits { MaxPages = 3 }));
        Assert.Contains("5 pages", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_table_without_header_cells_has_no_header_context()
    {
        var result = Map("""
            { "pages": [ {"pageNumber":3} ],
              "tables": [ { "boundingRegions": [ {"pageNumber":3} ],
                "cells": [ {"rowIndex":0,"columnIndex":1,"content":"b"}, {"rowIndex":0,"columnIndex":0,"content":"a"} ] } ] }
            """);
        var row = Assert.Single(result.Blocks);
        Assert.Equal("a | b", row.Text);
        Assert.Null(row.TableHeader);
        Assert.Equal(3, row.Page);
    }
}
