using System.Text.Json;
using Aims.Evidence.Azure.DocumentIntelligence;
using Aims.Evidence.Azure.Tests.Infrastructure;
using Aims.Evidence.Core.Extraction;
using Azure.Core;

namespace Aims.Evidence.Azure.Tests;

[Trait(Tiers.Name, Tiers.Integration)]
public sealed class DocumentIntelligenceLayoutExtractorTests
{
    private const string AnalyzePath = "/documentintelligence/documentModels/prebuilt-layout:analyze?api-version=2024-11-30";
    private const string ResultPath = "/documentintelligence/documentModels/prebuilt-layout/analyzeResults/op-1?api-version=2024-11-30";

    // A layout result in the documented 2024-11-30 shape: spans index the result's content string.
    private const string AnalyzeResult = """
    {
      "apiVersion": "2024-11-30",
      "modelId": "prebuilt-layout",
      "content": "...",
      "pages": [ { "pageNumber": 1 }, { "pageNumber": 2 } ],
      "paragraphs": [
        { "role": "pageHeader", "content": "Contoso confidential", "spans": [ { "offset": 0, "length": 20 } ], "boundingRegions": [ { "pageNumber": 1, "polygon": [0,0,1,0,1,1,0,1] } ] },
        { "role": "title", "content": "AI Management Policy", "spans": [ { "offset": 21, "length": 20 } ], "boundingRegions": [ { "pageNumber": 1, "polygon": [0,0,1,0,1,1,0,1] } ] },
        { "role": "sectionHeading", "content": "1 Purpose", "spans": [ { "offset": 42, "length": 9 } ], "boundingRegions": [ { "pageNumber": 1, "polygon": [0,0,1,0,1,1,0,1] } ] },
        { "content": "This policy sets   the objectives\nfor responsible AI.", "spans": [ { "offset": 52, "length": 50 } ], "boundingRegions": [ { "pageNumber": 1, "polygon": [0,0,1,0,1,1,0,1] } ] },
        { "content": "Risk", "spans": [ { "offset": 110, "length": 4 } ], "boundingRegions": [ { "pageNumber": 2, "polygon": [0,0,1,0,1,1,0,1] } ] },
        { "content": "Owner", "spans": [ { "offset": 115, "length": 5 } ], "boundingRegions": [ { "pageNumber": 2, "polygon": [0,0,1,0,1,1,0,1] } ] },
        { "content": "Bias in hiring model", "spans": [ { "offset": 121, "length": 20 } ], "boundingRegions": [ { "pageNumber": 2, "polygon": [0,0,1,0,1,1,0,1] } ] },
        { "content": "HR lead", "spans": [ { "offset": 142, "length": 7 } ], "boundingRegions": [ { "pageNumber": 2, "polygon": [0,0,1,0,1,1,0,1] } ] },
        { "role": "sectionHeading", "content": "2 Scope", "spans": [ { "offset": 160, "length": 7 } ], "boundingRegions": [ { "pageNumber": 2, "polygon": [0,0,1,0,1,1,0,1] } ] },
        { "content": "Applies to all AI systems.", "spans": [ { "offset": 168, "length": 26 } ], "boundingRegions": [ { "pageNumber": 2, "polygon": [0,0,1,0,1,1,0,1] } ] },
        { "role": "pageNumber", "content": "2", "spans": [ { "offset": 195, "length": 1 } ], "boundingRegions": [ { "pageNumber": 2, "polygon": [0,0,1,0,1,1,0,1] } ] },
        { "role": "pageFooter", "content": "Version 3", "spans": [ { "offset": 197, "length": 9 } ], "boundingRegions": [ { "pageNumber": 2, "polygon": [0,0,1,0,1,1,0,1] } ] }
      ],
      "tables": [
        {
          "rowCount": 3, "columnCount": 2,
          "spans": [ { "offset": 105, "length": 50 } ],
          "boundingRegions": [ { "pageNumber": 2, "polygon": [0,0,1,0,1,1,0,1] } ],
          "cells": [
            { "kind": "columnHeader", "rowIndex": 0, "columnIndex": 0, "content": "Risk", "spans": [ { "offset": 110, "length": 4 } ] },
            { "kind": "columnHeader", "rowIndex": 0, "columnIndex": 1, "content": "Owner", "spans": [ { "offset": 115, "length": 5 } ] },
            { "rowIndex": 1, "columnIndex": 0, "content": "Bias in hiring model", "spans": [ { "offset": 121, "length": 20 } ] },
            { "rowIndex": 1, "columnIndex": 1, "content": "HR lead", "spans": [ { "offset": 142, "length": 7 } ] },
            { "rowIndex": 2, "columnIndex": 0, "content": "Drift", "boundingRegions": [ { "pageNumber": 2, "polygon": [0,0,1,0,1,1,0,1] } ] },
            { "rowIndex": 2, "columnIndex": 1, "content": "ML ops" }
          ]
        }
      ]
    }
    """;

    private static DocumentIntelligenceLayoutExtractor Extractor(LocalHttpServer server) => new(new DocumentIntelligenceOptions(server.BaseUri)
    {
        ApiKey = "test-key-not-a-secret",
        PollingInterval = TimeSpan.FromMilliseconds(20),
        Timeout = TimeSpan.FromSeconds(30),
        ClientOptions = new DocumentIntelligenceClientOptions
        {
            Retry = { Mode = RetryMode.Fixed, Delay = TimeSpan.FromMilliseconds(10), MaxRetries = 3 },
        },
    });

    private static ExtractionContext Context => new("policy.pdf", MediaTypes.Pdf, ExtractionLimits.Default);

    [Fact]
    public async Task Submits_polls_through_429_and_running_and_maps_the_layout()
    {
        var polls = 0;
        var operation = string.Empty;
        await using var server = new LocalHttpServer(request =>
        {
            if (request.Method == "POST" && request.PathAndQuery == AnalyzePath)
            {
                return new ServerReply(202, null, new Dictionary<string, string> { ["Operation-Location"] = operation });
            }

            if (request.Method == "GET" && request.PathAndQuery == ResultPath)
            {
                return ++polls switch
                {
                    1 => ServerReply.Json(429, """{"error":{"code":"429","message":"Rate limit"}}""", ("Retry-After", "1")),
                    2 => ServerReply.Json(200, """{"status":"running","createdDateTime":"2026-11-28T00:00:00Z"}""", ("Retry-After", "0")),
                    _ => ServerReply.Json(200, $$"""{"status":"succeeded","analyzeResult":{{AnalyzeResult}}}"""),
                };
            }

            return ServerReply.Json(404, """{"error":{"code":"NotFound","message":"no route"}}""");
        });
        operation = new Uri(server.BaseUri, ResultPath).AbsoluteUri;

        var document = await Extractor(server).ExtractAsync(new byte[] { 1, 2, 3, 4 }, Context, TestContext.Current.CancellationToken);

        // Wire format: key header, base64 JSON body, 429 retried by the pipeline, running polled again.
        var submit = server.Requests.First();
        Assert.Equal("test-key-not-a-secret", submit.Headers["Ocp-Apim-Subscription-Key"]);
        Assert.Equal("AQIDBA==", JsonDocument.Parse(submit.Body).RootElement.GetProperty("base64Source").GetString());
        Assert.Equal(3, polls);

        Assert.Equal(2, document.PageCount);
        Assert.Equal("AI Management Policy", document.Title);
        var blocks = document.Blocks.Select(b => (b.Kind, b.Text, b.Page, b.HeadingLevel)).ToList();
        Assert.Equal(
            [
                (BlockKind.Heading, "AI Management Policy", 1, 1),
                (BlockKind.Heading, "1 Purpose", 1, 2),
                (BlockKind.Paragraph, "This policy sets the objectives for responsible AI.", 1, 0),
                (BlockKind.TableRow, "Bias in hiring model | HR lead", 2, 0),
                (BlockKind.TableRow, "Drift | ML ops", 2, 0),
                (BlockKind.Heading, "2 Scope", 2, 2),
                (BlockKind.Paragraph, "Applies to all AI systems.", 2, 0),
            ],
            blocks);
        var row = document.Blocks[3];
        Assert.Equal(["Risk", "Owner"], row.TableHeader);
        Assert.DoesNotContain(document.Blocks, b => b.Text.Contains("confidential", StringComparison.Ordinal) || b.Text == "Version 3");
        Assert.All(document.Blocks, b => Assert.Equal(b.Text, document.Text.Substring(b.Start, b.Length)));
    }

    [Fact]
    public async Task A_failed_analysis_is_a_rejected_document_with_the_service_message()
    {
        var operation = string.Empty;
        await using var server = new LocalHttpServer(request => request.Method == "POST"
            ? new ServerReply(202, null, new Dictionary<string, string> { ["Operation-Location"] = operation })
            : ServerReply.Json(200, """
                {"status":"failed","error":{"code":"InvalidRequest","message":"Invalid request.","innererror":{"code":"InvalidContent","message":"The file is corrupted or format is unsupported."}}}
                """));
        operation = new Uri(server.BaseUri, ResultPath).AbsoluteUri;

        var ex = await Assert.ThrowsAsync<DocumentRejectedException>(() =>
            Extractor(server).ExtractAsync(new byte[] { 9 }, Context, TestContext.Current.CancellationToken));

        Assert.Equal(RejectionKind.Invalid, ex.Kind);
        Assert.Contains("The file is corrupted or format is unsupported.", ex.Message, StringComparison.Ordinal);
        Assert.Contains("InvalidRequest", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_refused_submission_is_a_rejected_document()
    {
        await using var server = new LocalHttpServer(_ => ServerReply.Json(400, """{"error":{"code":"InvalidRequest","message":"Unsupported content."}}"""));

        var ex = await Assert.ThrowsAsync<DocumentRejectedException>(() =>
            Extractor(server).ExtractAsync(new byte[] { 9 }, Context, TestContext.Current.CancellationToken));
        Assert.Contains("Unsupported content.", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Requires_a_credential_or_key_and_declares_pdf_and_images()
    {
        Assert.Throws<ArgumentException>(() => new DocumentIntelligenceLayoutExtractor(new DocumentIntelligenceOptions(new Uri("https://di.example"))));
        var extractor = new DocumentIntelligenceLayoutExtractor(new DocumentIntelligenceOptions(new Uri("https://di.example"))
        {
            Credential = new global::Azure.Identity.DefaultAzureCredential(),
        });
        Assert.Contains(MediaTypes.Pdf, extractor.MediaTypes);
        Assert.Contains("image/png", extractor.MediaTypes);
    }
}
