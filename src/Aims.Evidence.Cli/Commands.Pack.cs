using System.CommandLine;
using Aims.Evidence.Api;
using Aims.Evidence.Core.Catalog;
using Aims.Evidence.Core.Services;
using Aims.Evidence.Sqlite;

namespace Aims.Evidence.Cli;

/// <summary><c>aims export pack</c>: the auditor's evidence pack as one ZIP file.</summary>
public static partial class AimsCli
{
    private static Command PackCommand(TextWriter error)
    {
        var outFile = new Option<string>("--out") { Description = "The ZIP file to write; an existing file is replaced only once the new pack is complete.", Required = true };
        var command = new Command("pack", "An auditor's evidence pack (ZIP): index page, SoA, gap report, documents and every cited passage, readable offline.") { outFile };
        command.SetAction(async (parse, ct) =>
        {
            var path = parse.GetValue(outFile)!;
            if (string.IsNullOrWhiteSpace(path))
            {
                throw new UsageException("--out is empty; name the ZIP file, e.g. --out pack.zip");
            }

            if (Directory.Exists(path))
            {
                throw new EnvironmentException($"--out names a folder, not a file: {path}");
            }

            var full = Path.GetFullPath(path);
            var dir = Path.GetDirectoryName(full)!;
            if (!Directory.Exists(dir))
            {
                throw new EnvironmentException($"no such folder for --out: {dir}");
            }

            using var store = new SqliteEvidenceStore(CheckDatabasePath(parse.GetValue(DbOption), mustExist: true));
            var pack = await EvidencePackWriter.LoadAsync(new EvidenceService(store, IsoCatalog.Default), ct).ConfigureAwait(false);

            // Written beside the target and renamed over it: a reader never sees half a pack, a failure leaves the old file.
            var temp = Path.Combine(dir, "." + Path.GetFileName(full) + "." + Guid.NewGuid().ToString("N")[..8] + ".tmp");
            EvidencePackSummary summary;
            try
            {
                var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, useAsync: true);
                await using (file.ConfigureAwait(false))
                {
                    summary = await pack.WriteAsync(file, ct).ConfigureAwait(false);
                }

                File.Move(temp, full, overwrite: true);
            }
            finally
            {
                File.Delete(temp);
            }

            await error.WriteLineAsync($"Evidence pack written to {path}: {summary.Entries} entries, {summary.CitedPassages} cited passages, {summary.Documents} documents (open index.html after unzipping).").ConfigureAwait(false);
            return ExitCodes.Ok;
        });
        return command;
    }
}
