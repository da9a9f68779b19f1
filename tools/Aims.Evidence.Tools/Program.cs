using Aims.Evidence.Tools;

return await AimsTools.RunAsync(args).ConfigureAwait(false);
