"""Writes tests/calibration/gold.jsonl from the labels below (kept as code so labels are reviewable in diffs)."""
import json, pathlib

def P(quote, controls, also=()):
    return {"quote": quote, "controls": list(controls), "also": list(also)}

DOCS = [
 {"file": "harbourview-council-ai-acceptable-use-policy.md", "doc_type": "policy", "doc_type_alt": [], "ai_relevant": True,
  "must_controls": ["5.2", "A.2.2", "A.2.3", "A.2.4", "5.3", "A.3.2", "A.3.3", "A.9.2"],
  "may_controls": ["5.1", "4.3", "6.1.1", "7.2", "7.3", "7.4", "7.5.2", "7.5.3", "A.4.2", "A.4.6", "A.5.2", "6.1.4", "8.4",
                   "A.8.2", "A.8.3", "A.8.5", "A.9.3", "A.9.4", "A.10.2", "A.10.3"],
  "passages": [
   P("The council commits to using AI only where it supports a clear public-service purpose, where the benefits to residents outweigh the risks, and where a human officer remains accountable for every decision that affects an individual.", ["5.2", "A.2.2"], ["5.1", "A.9.2", "A.9.3"]),
   P("No AI system may be used to make a final decision on a resident's eligibility for housing, social care, council tax support or any other statutory entitlement.", ["A.9.2"], ["A.9.4", "A.9.3", "A.2.2", "5.2"]),
   P("An AI impact assessment must be completed and approved by the AI Governance Board before any new AI system is deployed, and repeated whenever the purpose, data or supplier of the system changes significantly.", ["A.5.2"], ["6.1.4", "8.4", "A.2.2", "5.2"]),
   P("This policy must be read alongside the council's Data Protection Policy, Information Security Policy, Records Management Policy and Equality and Diversity Policy.", ["A.2.3"], ["5.2"]),
   P("A named Head of Service accountable for each AI system, its monitoring, its records and its withdrawal when no longer needed.", ["A.3.2", "5.3"], ["A.10.2"]),
   P("Anyone who believes that an AI system is producing unfair, inaccurate or harmful results, or is being used in breach of this policy, should report it to the Information Governance team", ["A.3.3"], ["A.8.3"]),
   P("This policy will be reviewed annually by the Head of Information Governance, or sooner if there is a significant change in legislation, in national guidance or in the council's use of AI.", ["A.2.4"], ["5.2", "7.5.2"]),
   P("Contact: Information Governance, Harbourview City Council, Civic Centre, Quay Street, Harbourview HV1 2AA. Telephone 01632 960 412.", []),
  ],
  "notes": "Acceptable-use rules for generative AI (section 4) were read as responsible-use processes (A.9.2) rather than as policy text."},

 {"file": "westbrook-ed-triage-model-card.md", "doc_type": "model-card", "doc_type_alt": [], "ai_relevant": True,
  "must_controls": ["A.6.2.7", "A.9.4", "A.6.2.4", "A.6.2.6", "A.6.2.8", "A.9.2", "A.7.2"],
  "may_controls": ["A.6.2.2", "A.6.2.3", "A.6.2.5", "A.5.2", "A.5.3", "A.5.4", "A.7.4", "A.7.5", "A.7.6", "A.4.2", "A.4.3", "A.4.4",
                   "A.4.6", "A.8.2", "A.8.5", "A.9.3", "A.3.2", "9.1", "6.1.2", "6.1.3", "8.2", "8.3", "6.3", "4.2", "7.5.2", "7.5.3"],
  "passages": [
   P("Model type: gradient-boosted decision trees (LightGBM 4.3) producing a probability for each of five acuity levels, mapped to the Manchester-style triage categories used in the department.", ["A.6.2.7"], ["A.6.2.3", "A.4.4", "A.4.2"]),
   P("TAM-3 is intended to support registered triage nurses in the adult emergency departments of Westbrook General and Ferrybridge Community Hospital by suggesting an acuity level within two minutes of arrival.", ["A.9.4"], ["A.6.2.2", "A.6.2.7", "A.8.2"]),
   P("The model was trained on 412,000 adult attendances between January 2021 and June 2024, extracted from the emergency department information system.", ["A.7.2"], ["A.7.5", "A.4.3", "A.6.2.7"]),
   P("The largest gap was for patients aged 80 and over, where under-triage reached 4.9%; a recalibration of the oldest age band was applied in version 3.1 and reduced this to 3.8%.", ["A.6.2.4", "A.5.4"], ["9.1", "A.6.2.7", "6.1.3", "8.3"]),
   P("The triage screen shows the suggestion only after the nurse has entered their own provisional category. Where the nurse and model disagree by two or more levels, the system prompts the nurse to re-check observations and record a reason.", ["A.9.2"], ["A.6.2.2", "A.9.4", "A.8.2"]),
   P("An alert is raised if under-triage of category 1-2 patients exceeds 4.5% in any calendar month, and the Clinical Safety Officer decides whether to suspend the suggestion.", ["A.6.2.6"], ["9.1", "A.3.2"]),
   P("Each suggestion, the model version and the nurse's final decision are logged in the audit table for eight years.", ["A.6.2.8"], ["A.6.2.6", "7.5.3"]),
   P("We thank the triage nurses of Westbrook General and Ferrybridge Community Hospital who took part in the usability sessions, and the Informatics team for the data extract.", []),
  ],
  "notes": "Group-wise evaluation counts as validation (A.6.2.4) and as impact on individuals (A.5.4); the card is not itself an impact assessment."},

 {"file": "eastmoor-dialect-speech-corpus-datasheet.md", "doc_type": "data-card", "doc_type_alt": [], "ai_relevant": True,
  "must_controls": ["A.7.2", "A.7.3", "A.7.4", "A.7.5", "A.7.6", "A.4.3"],
  "may_controls": ["A.6.2.7", "A.6.2.3", "A.6.1.2", "A.9.4", "A.8.2", "A.8.5", "A.5.4", "A.5.5", "A.4.2", "A.3.2", "4.2",
                   "6.1.2", "7.5.2", "7.5.3"],
  "passages": [
   P("EDSC was created to measure and reduce the gap in automatic speech recognition accuracy between speakers of the regional dialects of the Eastmoor coast and speakers of standard southern English.", ["A.7.2"], ["A.4.3", "A.6.1.2"]),
   P("Spontaneous speech was screened for names, addresses and other identifying details, which were replaced with a beep and the tag [REDACTED] in the transcript.", ["A.7.6"], ["A.7.4", "A.4.3"]),
   P("All participants gave written informed consent covering recording, transcription, release for non-commercial research and the right to withdraw until the release date.", ["A.7.3"], ["A.7.5", "A.5.4"]),
   P("A random 5% sample of utterances was double-transcribed and the inter-transcriber word disagreement rate was 2.3%.", ["A.7.4"], ["A.7.6"]),
   P("The dataset must not be used to identify speakers, to build speaker verification or voice cloning systems, or to infer the town or social background of an individual speaker.", ["A.9.4"], ["A.8.2", "A.5.4", "A.7.2"]),
   P("Speakers over 70 and speakers from the two northern towns are under-represented relative to the population census; users should report results per dialect group rather than a single average.", ["A.7.4"], ["A.8.2", "A.5.4", "A.5.5"]),
   P("The Language Technology Lab will maintain the corpus until at least 2031. Errata are tracked in the public issue log, and corrected transcripts will be issued as point releases with a change log.", ["A.7.5"], ["A.7.4", "7.5.2", "7.5.3"]),
   P("We thank the participants, the staff of the community centres and libraries who hosted recording sessions, and Radio Eastmoor for help with recruitment.", []),
  ],
  "notes": "Uses section of a dataset is labelled A.9.4 (intended use) by analogy; maintenance/versioning is treated as provenance (A.7.5)."},

 {"file": "kestrel-freight-demandcast-risk-register.md", "doc_type": "risk-assessment", "doc_type_alt": [], "ai_relevant": True,
  "must_controls": ["6.1.1", "6.1.2", "6.1.3", "8.2", "8.3"],
  "may_controls": ["4.2", "5.1", "5.3", "A.3.2", "6.1.4", "6.3", "7.2", "7.3", "7.5.2", "7.5.3", "8.1", "9.1", "9.3.2",
                   "A.4.3", "A.4.4", "A.5.2", "A.5.4", "A.5.5", "A.6.2.4", "A.6.2.5", "A.6.2.6", "A.7.3", "A.7.4", "A.8.2",
                   "A.9.2", "A.10.3"],
  "passages": [
   P("Each risk is scored for likelihood and impact on a scale of 1 to 5; the inherent score is the product before controls, and the residual score is the product after existing controls.", ["6.1.2"], ["8.2", "6.1.1"]),
   P("Forecasts under-predict volume during promotional peaks, leaving depots short of drivers and delaying customer deliveries.", ["6.1.2", "8.2"]),
   P("Add freshness and completeness checks with automatic hold of the forecast and an alert to the on-call engineer. Owner: Data Engineering Manager.", ["6.1.3", "8.3"], ["A.7.4", "A.6.2.6"]),
   P("Agency workers receive fewer shifts at some depots because forecasts are systematically low there, with unequal effects on income.", ["6.1.2", "8.2"], ["A.5.4", "6.1.4"]),
   P("Pin library versions and re-run the validation suite after every supplier release. Owner: MLOps Lead.", ["6.1.3", "8.3"], ["A.10.3", "A.6.2.4", "A.4.4"]),
   P("R1 remains above appetite and has been accepted temporarily by the Operations Committee on 19 February 2026 until the promotions feed is available", ["6.1.3", "8.3"], ["5.1", "6.1.2"]),
   P("This register is reviewed monthly by the Data Science and Analytics team and quarterly by the AI Steering Group, and whenever the model is retrained, a new data source is added or an incident occurs.", ["8.2"], ["6.1.2", "8.3", "7.5.2", "9.1"]),
   P("Distribution: Operations Committee, AI Steering Group, Internal Audit.", []),
  ],
  "notes": "Risk descriptions are labelled with both the process (6.1.2) and its operation (8.2); treatments likewise 6.1.3 and 8.3."},

 {"file": "talentsift-algorithmic-impact-assessment.html", "doc_type": "impact-assessment", "doc_type_alt": ["risk-assessment"], "ai_relevant": True,
  "must_controls": ["6.1.4", "8.4", "A.5.2", "A.5.3", "A.5.4", "A.5.5"],
  "may_controls": ["4.2", "6.1.2", "6.1.3", "8.2", "8.3", "6.3", "9.1", "7.5.3", "A.2.2", "A.3.2", "A.6.1.2", "A.6.2.2",
                   "A.6.2.3", "A.6.2.4", "A.6.2.5", "A.6.2.6", "A.6.2.7", "A.7.2", "A.7.4", "A.7.6", "A.8.2", "A.8.3", "A.8.5",
                   "A.9.2", "A.9.3", "A.9.4", "A.10.2", "A.10.4"],
  "passages": [
   P("ShortlistIQ is a software-as-a-service tool that TalentSift provides to employers. It extracts skills, qualifications and experience from candidates' CVs and ranks applicants against the requirements of a job advertisement written by the employer's recruiter.", ["A.6.2.7", "A.9.4"], ["A.5.3", "A.8.2"]),
   P("TalentSift's Responsible AI Policy requires an impact assessment before any new model version that ranks or scores people is released to customers.", ["A.5.2"], ["6.1.4", "8.4", "A.2.2"]),
   P("Job applicants, including people with career breaks, disabled applicants, applicants whose first language is not English and applicants with qualifications gained outside the UK.", ["A.5.4"], ["4.2", "6.1.4", "8.4"]),
   P("Concentration of hiring on a single vendor's model could narrow the range of people hired across a sector.", ["A.5.5"], ["6.1.4", "8.4"]),
   P("The lowest selection-rate ratio was 0.86 for applicants over 55, above our internal threshold of 0.80.", ["A.6.2.4", "A.5.4"], ["9.1", "8.4"]),
   P("Customers must tell applicants that an automated tool supports shortlisting. TalentSift provides template wording for job adverts and a plain-language explanation of how the ranking works.", ["A.8.2", "A.10.4"], ["A.8.5", "A.9.2", "A.10.2"]),
   P("The Product Risk Committee approved release of ShortlistIQ 5.0 on condition that the selection-rate monitoring dashboard is available to every customer at launch, and that this assessment is reviewed after six months of live use", ["8.4", "A.5.2"], ["6.1.4", "A.5.3", "A.6.2.5", "A.6.2.6", "9.1"]),
   P("TalentSift Ltd, 4 Printworks Lane, Leeds LS2 7XX. Registered in England and Wales no. 00000000. Questions: responsible-ai@talentsift.example", []),
  ],
  "notes": "The impact table doubles as a risk analysis, hence risk-assessment as alternative type; the system description is labelled as technical documentation."},

 {"file": "brightwater-mutual-external-assurance-report.txt", "doc_type": "audit-report", "doc_type_alt": [], "ai_relevant": True,
  "must_controls": ["9.1", "10.2", "A.6.2.4", "A.6.2.6", "A.6.2.8"],
  "may_controls": ["4.3", "5.1", "5.3", "6.1.4", "6.3", "8.1", "8.4", "9.2.1", "9.2.2", "9.3.2", "10.1", "7.5.3", "A.2.2", "A.3.2",
                   "A.4.2", "A.5.2", "A.5.3", "A.5.4", "A.6.2.5", "A.7.3", "A.7.4", "A.7.5", "A.9.4", "A.10.3"],
  "passages": [
   P("The AI impact assessment completed in 2024 was not updated to reflect this change, although customers routed to fraud review experience longer settlement times and additional questioning.", ["A.5.2", "6.1.4"], ["8.4", "A.5.4", "6.3", "10.2"]),
   P("Define an escalation route for each monitoring threshold, record the decision taken on each breach, and report open breaches to the AI Oversight Committee.", ["A.6.2.6"], ["9.1", "10.2"]),
   P("The contract with the supplier of the third-party address-verification data used as a ClaimSort feature does not require the supplier to notify the Society of changes to its data sources or matching method.", ["A.10.3"], ["A.7.3", "A.7.5"]),
   P("Establish a risk-based internal audit programme covering the AI management system at planned intervals, with auditors independent of the data science function.", ["9.2.2"], ["9.2.1", "10.2"]),
   P("Agreed. Procurement will update the questionnaire by 30 June 2026 and renegotiate at renewal in October 2026. Owner: Head of Procurement.", ["10.2"], ["A.10.3"]),
   P("The ClaimSort validation report of July 2025 was thorough: it tested accuracy on a held-out sample, stability across claim types and regions, and the rate of fast-track errors by customer age band.", ["A.6.2.4"], ["9.1", "A.5.4"]),
   P("Event logs record each routing decision with the model version and input features and are retained for seven years, allowing individual decisions to be reconstructed in complaints handling.", ["A.6.2.8"], ["7.5.3", "A.6.2.6"]),
   P("To the fullest extent permitted by law, we do not accept responsibility to anyone other than the Society for our work or this report.", []),
  ],
  "notes": "Findings describing gaps are labelled with the control they concern; an external assurance report is not internal audit, so 9.2.x is only in may."},

 {"file": "corvid-telecom-assistant-incident-postmortem.md", "doc_type": "incident-report", "doc_type_alt": [], "ai_relevant": True,
  "must_controls": ["10.2", "A.8.4", "A.8.5", "A.6.2.6", "A.6.2.8"],
  "may_controls": ["10.1", "9.1", "9.3.2", "6.3", "8.1", "7.3", "7.4", "7.5.2", "7.5.3", "5.3", "6.1.2", "6.1.3", "8.2", "8.3",
                   "A.3.2", "A.3.3", "A.5.4", "A.6.1.3", "A.6.2.4", "A.6.2.5", "A.6.2.7", "A.4.3", "A.7.2", "A.7.4", "A.7.5",
                   "A.7.6", "A.8.2", "A.8.3", "A.9.2", "A.9.4", "A.10.4"],
  "passages": [
   P("The retrieval component matched this article to general questions about leaving a contract, and the model generalised the sentence to all early cancellations.", ["10.2"], ["A.6.2.7", "A.7.4"]),
   P("Knowledge-base changes were published straight into the retrieval index without any review of how the assistant would use them.", ["10.2", "A.7.4"], ["6.3", "8.1", "A.7.2", "A.6.2.5"]),
   P("Conversation monitoring measured customer satisfaction and hand-off rate, but not factual accuracy on high-risk topics such as fees and contracts, so the problem was found by staff rather than by monitoring.", ["A.6.2.6"], ["9.1", "10.2"]),
   P("Full conversation logs with the retrieved article identifiers allowed us to find every affected customer within six hours.", ["A.6.2.8"], ["A.6.2.6"]),
   P("Affected customers were contacted by e-mail and app message on 20 February, with an apology and a clear statement of their options. The communications regulator was informed on 20 February and received a copy of this review.", ["A.8.4"], ["A.8.5", "A.8.3", "7.4"]),
   P("Route knowledge-base changes in the Contracts, Billing and Fees categories through a review step that runs the assistant's regression tests before indexing.", ["10.2"], ["6.3", "10.1", "A.6.2.4", "A.7.4"]),
   P("Add an \"AI answer looks wrong\" button to the agent desktop and define a 2-hour triage target for such reports.", ["A.3.3"], ["10.2", "A.8.3"]),
   P("This is a blameless review. Its purpose is to learn and improve, not to assign individual fault.", []),
  ],
  "notes": "Root-cause and corrective-action text is labelled 10.2; data/knowledge-base change control could also be read as 6.3."},

 {"file": "solent-water-leak-model-mlops-runbook.md", "doc_type": "procedure", "doc_type_alt": [], "ai_relevant": True,
  "must_controls": ["8.1", "9.1", "A.6.2.4", "A.6.2.5", "A.6.2.6", "A.6.2.8"],
  "may_controls": ["5.3", "6.3", "7.4", "7.5.2", "7.5.3", "10.2", "A.2.3", "A.3.2", "A.4.2", "A.4.4", "A.4.5", "A.6.1.3", "A.6.2.2",
                   "A.6.2.3", "A.6.2.7", "A.7.2", "A.7.4", "A.7.5", "A.8.4", "A.9.2", "A.9.4"],
  "passages": [
   P("Independent validator: a data scientist who did not build the candidate; reviews the validation pack and re-runs the tests.", ["A.3.2"], ["5.3", "A.6.2.4"]),
   P("Train the candidate on the approved training window recorded in the model registry. Record the data snapshot ID, code commit and hyperparameters in the registry entry.", ["A.6.2.3"], ["A.7.5", "A.6.2.7", "7.5.3"]),
   P("If any criterion fails, the candidate is rejected and the reason is recorded; it may not be deployed with an exception unless the Head of Asset Intelligence approves it in writing.", ["A.6.2.4"], ["A.6.2.5", "8.1"]),
   P("Deploy the candidate in shadow mode for 14 nights. In shadow mode it scores live data but its alerts are not sent to crews. Compare shadow alerts with production alerts daily.", ["A.6.2.5"], ["A.6.2.4", "6.3", "8.1"]),
   P("Confirmed-leak rate of alerts below 0.45 over a rolling 30 days: open a model review ticket and inform the Head of Asset Intelligence.", ["A.6.2.6"], ["9.1"]),
   P("Every scoring run writes the model version, input data snapshot, alerts raised and crew outcomes to the LeakSense event log, which is retained for six years to support regulatory reporting on leakage performance.", ["A.6.2.8"], ["7.5.3", "A.6.2.6"]),
   P("The rollback is recorded as an incident and reviewed within ten working days.", ["A.6.2.5", "10.2"], ["A.6.2.6", "8.1"]),
   P("Solent Water Services Ltd, registered office Harbour House, 2 Dockside Road, Southampton SO14 3XX. Registered in England and Wales.", []),
  ],
  "notes": "Validation acceptance criteria could also be read as requirements (A.6.2.2); registry recording is labelled design documentation (A.6.2.3)."},

 {"file": "fenwick-pharma-aims-management-review-minutes.md", "doc_type": "procedure", "doc_type_alt": ["audit-report"], "ai_relevant": True,
  "must_controls": ["9.3.1", "9.3.2", "9.3.3", "9.2.1", "9.2.2", "6.2"],
  "may_controls": ["4.1", "4.2", "4.3", "5.1", "5.2", "5.3", "6.1.2", "6.1.4", "6.3", "7.1", "7.2", "7.4", "7.5.2", "7.5.3", "8.2",
                   "8.4", "9.1", "10.1", "10.2", "A.2.4", "A.3.2", "A.3.3", "A.4.2", "A.4.5", "A.4.6", "A.5.2", "A.6.2.4",
                   "A.7.5", "A.10.3"],
  "passages": [
   P("The AI Governance Manager reported that the company has started using a third-party generative AI tool for drafting regulatory submissions, and that the EU AI Act obligations for general-purpose AI providers now apply to that supplier.", ["9.3.2", "4.1"], ["A.10.3", "4.2"]),
   P("The missing impact assessment is for the submission-drafting tool, which was adopted before the assessment was finished.", ["6.2", "9.3.2"], ["9.1", "A.5.2", "6.1.4"]),
   P("The internal audit of AI risk assessment and data management (report IA-AIMS-2025-03) raised two minor nonconformities: the risk register for the compound-screening model had not been reviewed for nine months", ["9.3.2"], ["9.2.1", "10.2", "8.2"]),
   P("The Head of Data Science reported that GPU capacity in the private cloud is at 85% utilisation and requested budget for additional capacity or a managed service.", ["7.1", "A.4.5"], ["9.3.2"]),
   P("The meeting concluded that the AI management system remains suitable, adequate and effective, subject to completion of the actions above. The AI policy was reviewed and no changes were required.", ["9.3.3"], ["9.3.1", "A.2.4", "10.1"]),
   P("Audits are carried out by trained internal auditors from the Quality department who do not audit their own work; the data science function provides subject-matter support but does not audit its own processes.", ["9.2.2"], ["9.2.1"]),
   P("Findings are reported to the audited manager and to the AI Governance Manager within ten working days, and nonconformities are entered into the corrective action system with a root-cause analysis.", ["9.2.2"], ["9.2.1", "10.2"]),
   P("The secretary reminded members that the Cambridge site car park will be closed for resurfacing on the day of the next review and that parking will be available at the Science Park.", []),
  ],
  "notes": "Minutes are a decision record (procedure); the annexed audit programme and reported audit results make audit-report an acceptable alternative."},

 {"file": "greyfield-architects-travel-expenses-policy.txt", "doc_type": "unrelated", "doc_type_alt": [], "ai_relevant": False,
  "must_controls": [], "may_controls": [],
  "passages": [
   P("Standard class rail travel should be used for journeys under three hours.", []),
   P("Staff who use their own car for business journeys are reimbursed at 45 pence per mile for the first 10,000 business miles in the tax year and 25 pence per mile after that.", []),
   P("Claims must be submitted through the expenses app within 30 days of the expense being incurred, with a photograph of each itemised receipt.", []),
  ],
  "notes": "Ordinary finance policy with policy vocabulary (approval, owner, review) but nothing about AI."},
]

out = pathlib.Path(__file__).resolve().parent.parent / "gold.jsonl"
with out.open("w", encoding="utf-8") as f:
    for d in DOCS:
        rec = {k: d[k] for k in ["file", "doc_type", "doc_type_alt", "ai_relevant", "must_controls", "may_controls", "passages", "notes"]}
        f.write(json.dumps(rec, ensure_ascii=False) + "\n")
print(f"wrote {out} ({len(DOCS)} documents)")
