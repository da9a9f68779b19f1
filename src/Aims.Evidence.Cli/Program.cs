using System.CommandLine;
using Aims.Evidence.Cli;

return await AimsCli.RunAsync(args).ConfigureAwait(false);
