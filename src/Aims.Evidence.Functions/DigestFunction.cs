using Aims.Evidence.Core.Tasks;
using Microsoft.Azure.Functions.Worker;

namespace Aims.Evidence.Functions;

/// <summary>
/// The daily digest on Azure: a timer (schedule: the app setting <c>AimsDigestSchedule</c>, an NCRONTAB expression such
/// as <c>0 0 7 * * *</c>) runs Core's <see cref="DigestRunner"/>, as <c>aims serve</c> does; the day claimed in Table
/// Storage keeps a second run (or instance) the same day from sending it again. Without
/// <c>Aims:Notifications:WebhookUrl</c> it does nothing.
/// </summary>
public sealed class DigestFunction(DigestRunner runner)
{
    [Function("SendDigest")]
    public async Task Run([TimerTrigger("%AimsDigestSchedule%")] TimerInfo timer, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(timer);
        if (await runner.RunAsync(cancellationToken).ConfigureAwait(false) == DigestOutcome.Failed)
        {
            // A failed run fails the invocation, so the host logs it; the day stays open for the next run.
            throw new InvalidOperationException("The digest could not be delivered to Aims:Notifications:WebhookUrl; see the log.");
        }
    }
}
