"""Write bench/data/analysis_eval.jsonl: a labelled set for campaign grouping and themes.

    .venv/bin/python -m bench.make_eval_set [--seed 2026] [--out bench/data/analysis_eval.jsonl]

Comments on the cryoablation draft (HTE1001 in the demo), in the import
format of `flask comments import` plus a `campaign` label (null for a comment
written independently). Four campaigns:

- A and D ask, in different letters, for the procedure to be offered now;
- B asks for a national register and a funded trial;
- C objects to the cost.

Each has mail-merge members (names, towns and years filled in, synonyms
swapped, sentences reordered or dropped, typos, greetings and sign-offs
varied) and members who put the campaign's points in their own words. Each
campaign's topic also has comments written independently with the same
position, and other topics have their own. Independent comments are built
from clause fragments, and one that shares two claims with another is
drawn again, so no two of them are copies.

Seeded: the same seed writes the same file.
"""

import argparse
import json
import random
from pathlib import Path

OUT = Path(__file__).parent / "data" / "analysis_eval.jsonl"

THEMES = {
    "Offer the procedure now": "Asks for cryoablation to be available in routine NHS care rather than only in research.",
    "Access and waiting times": "Waiting lists, travel, and unequal access to pain services across the country.",
    "Living with neuroma pain": "What long-term nerve pain does to work, sleep, family and mood.",
    "Evidence is too limited": "The studies are small, short or uncontrolled, so the benefit is uncertain.",
    "Research only is right": "Agrees that the procedure should be used only in research for now.",
    "Register and trials": "Calls for a national register, data collection or a funded randomised trial.",
    "Safety and complications": "Nerve injury, infection, skin damage, and how harms are reported.",
    "Cost and value for money": "Cost of the probe, the theatre time and the follow-up against its benefit.",
    "Training and specialist centres": "Who should do the procedure, with what training and in which centres.",
    "Imaging and technique": "Ultrasound or CT guidance, probe placement, freeze cycles and anaesthetic.",
    "Outcomes and follow-up": "Which outcomes to measure, for how long, and quality of life.",
    "Morton's neuroma and alternatives": "Insoles, injections, footwear and surgery for Morton's neuroma.",
    "Patient views were missing": "No patient commentary was received; people with the condition should be asked.",
}

FIRST_NAMES = ("Sarah Tom Priya Gareth Olu Megan Declan Fatima Ian Joanne Kwame Lucy Rhys Aisha Graham Helen "
               "Marek Nadia Owen Ruth Sunita Colin Bethan Jamal Eileen Patrick Chloe Vikram Moira Stuart").split()
SURNAMES = ("Jones Patel Hughes Okafor Campbell Murphy Khan Walsh Robinson Evans Mensah Clarke Davies Begum "
            "Fraser Thompson Nowak Ahmed Price Gallagher Sharma Reid Morgan Bailey Doyle Singh Kerr Lewis").split()
TOWNS = ("Leeds Swansea Carlisle Norwich Plymouth Bolton Derby Inverness Wrexham Hull Exeter Luton Sunderland "
         "Bangor Preston Ipswich Stoke Lincoln Truro Dundee Gloucester Wigan Reading Barnsley Hereford").split()

# --- Campaign letters ------------------------------------------------------------------------------
# Each letter is a list of sentences with {slots}; `synonyms` are swapped at random in mail-merge copies;
# `points` are the campaign's talking points, each in several wordings its supporters used.

CAMPAIGNS = {
    "A": {
        "themes": ["Offer the procedure now", "Access and waiting times"],
        "sections": ["1.1", "document"],
        "letter": [
            "My name is {name} and I live in {town}.",
            "I have lived with a painful neuroma for {years} years and I am writing to ask the committee to change its draft recommendation.",
            "Cryoablation freezes the damaged nerve and for many patients it is the first thing that has given them their life back.",
            "Restricting it to research means a postcode lottery, because only a handful of hospitals run studies and the rest of us are left waiting.",
            "Patients like me cannot wait years for a trial that may never come while we live in constant pain.",
            "Please recommend that cryoablation is offered in routine NHS care now, with audit, so that people in {town} and everywhere else can get it.",
        ],
        "synonyms": {"painful": "agonising", "constant": "daily", "handful": "small number", "routine": "standard",
                     "patients": "people", "committee": "panel", "freezes": "freezing of", "waiting": "stuck"},
        "points": [
            ["I have had nerve pain from a neuroma for {years} years and nothing the pain clinic tried has helped for long.",
             "After {years} years of neuroma pain I am exhausted by treatments that wear off.",
             "My neuroma has caused me pain every day for {years} years.",
             "For {years} years I have been living with the pain of a neuroma in my foot."],
            ["Freezing the nerve gave people I know their life back, and it should not be kept from the rest of us.",
             "Cryoablation is the one treatment that seems to give patients their life back.",
             "Freezing the damaged nerve worked for a friend when nothing else did, she says she has her life back.",
             "The freezing treatment has given some patients their lives back after years of pain."],
            ["Limiting it to research studies creates a postcode lottery where only a few hospitals can offer it.",
             "If it is research only, whether you get it depends on your postcode, which is a lottery.",
             "Only a handful of hospitals run studies, so research only means a postcode lottery for patients.",
             "A research-only recommendation turns access into a postcode lottery."],
            ["We cannot wait years for a trial that might never happen while we are in constant pain.",
             "Waiting for a trial that may never come is not an option when you live in constant pain.",
             "People in constant pain should not have to wait for a trial that may never be run.",
             "A trial may never come, and patients are left waiting in pain in the meantime."],
            ["Please offer cryoablation in routine NHS care now and audit the results.",
             "I urge the committee to recommend it for routine NHS use now, with an audit of outcomes.",
             "Make cryoablation available in normal NHS care now and collect audit data as you go.",
             "The recommendation should be changed so it is offered in routine care now, with audit."],
        ],
    },
    "B": {
        "themes": ["Register and trials", "Evidence is too limited"],
        "sections": ["1.2", "3.1"],
        "letter": [
            "I am writing as a {role} in {town} to support the call for a national register of cryoablation for peripheral neuroma.",
            "The draft is right that the evidence base is thin, but a research-only recommendation will not fix that on its own.",
            "Every procedure done in the UK should be entered on a mandatory national register with pain scores at six and twelve months.",
            "Alongside the register, a properly funded multicentre randomised trial against sham or standard care is needed.",
            "Without dedicated funding, the trial the committee asks for will not happen and the evidence will stay weak.",
            "I ask that the final guidance names a national register and funded trial as conditions.",
        ],
        "synonyms": {"thin": "weak", "mandatory": "compulsory", "properly": "adequately", "dedicated": "ring-fenced",
                     "national": "UK-wide", "needed": "required", "evidence base": "evidence", "names": "sets out"},
        "points": [
            ["There should be a compulsory national register with pain scores recorded at six and twelve months.",
             "Every case should go on a national register, with pain scored at six months and again at twelve.",
             "A mandatory UK register of every cryoablation, with pain scores over twelve months, is essential.",
             "Put every patient on a national register and record their pain scores at six and twelve months."],
            ["A multicentre randomised trial against sham or standard care needs proper funding.",
             "Only a funded multicentre randomised trial compared with sham will settle the question.",
             "The trial must be multicentre and randomised against standard care or sham, and someone has to fund it.",
             "Funding a randomised multicentre trial should be part of the recommendation."],
            ["Saying research only does not create the research unless funding is ring-fenced.",
             "A research-only recommendation without dedicated funding means the trial will never happen.",
             "Research only is empty words if nobody funds the trial.",
             "Without ring-fenced funding the evidence will remain weak for years."],
            ["The final guidance should make the register and the funded trial conditions of use.",
             "Please set out a national register and a funded trial as conditions in the final guidance.",
             "I would like the guidance to name the register and trial as conditions.",
             "Make the national register and the trial conditions of using the procedure."],
        ],
    },
    "C": {
        "themes": ["Cost and value for money"],
        "sections": ["3.5", "document"],
        "letter": [
            "As a taxpayer in {town} I object to public money being spent on cryoablation for neuroma.",
            "Each procedure needs a specialist probe, an interventional radiologist and theatre time, and the costs soon add up.",
            "The draft itself admits there is not enough evidence that it works better than cheaper options such as injections or insoles.",
            "NHS budgets are already stretched and money should go to treatments with proven value.",
            "I ask the committee to say clearly that cryoablation should not be funded by the NHS until it is shown to be cost effective.",
        ],
        "synonyms": {"object": "am opposed", "soon add up": "quickly mount up", "stretched": "overstretched",
                     "proven": "demonstrated", "cheaper": "less expensive", "clearly": "plainly"},
        "points": [
            ["The probes, the radiologist and the theatre time make each procedure expensive.",
             "Each cryoablation needs costly kit, a specialist radiologist and time in theatre.",
             "Between the specialist probe and the theatre time, the costs of each case mount up quickly."],
            ["There is no proof it beats cheaper options like injections or insoles.",
             "Nothing shows it works better than less expensive treatments such as insoles or injections.",
             "The draft admits the evidence does not show it is better than cheaper injections or insoles."],
            ["With NHS budgets stretched, money should go to treatments of proven value.",
             "Stretched budgets should be spent only on things with proven value.",
             "Public money is tight and should fund treatments that have proved their worth."],
            ["It should not be NHS funded until it is shown to be cost effective.",
             "Do not fund it on the NHS until cost effectiveness is demonstrated.",
             "Please state plainly that the NHS should not pay for it until it is shown to be cost effective."],
        ],
    },
    "D": {
        "themes": ["Offer the procedure now", "Living with neuroma pain"],
        "sections": ["1.1", "2.6"],
        "letter": [
            "Dear committee, I am {name}, a patient from {town}, and I want to tell you what neuroma pain is like.",
            "It wakes me at night, it stopped me working, and it has taken away the walks I used to take with my family.",
            "Patients deserve a choice, and cryoablation is a day-case procedure under local anaesthetic with a quick recovery.",
            "Doctors and patients together should be allowed to decide whether it is right for them, not be told it is only for trials.",
            "Please let patients choose cryoablation now.",
        ],
        "synonyms": {"wakes": "keeps", "stopped": "prevented", "walks": "country walks", "deserve": "should have",
                     "quick": "fast", "together": "jointly", "allowed": "free"},
        "points": [
            ["The pain wakes me at night and has stopped me working.",
             "I cannot sleep with it and I had to give up my job.",
             "Neuroma pain has cost me my job, my sleep and my walks with my family."],
            ["Patients deserve a choice about their own treatment.",
             "We should be given the choice, it is our pain and our decision.",
             "People in pain deserve to choose, together with their doctor."],
            ["It is a day-case procedure under local anaesthetic, and people recover quickly.",
             "You go home the same day after a local anaesthetic and recovery is quick.",
             "As a quick day case with only local anaesthetic, it is far less of an ordeal than surgery."],
            ["Let doctors and patients decide together instead of limiting it to trials.",
             "The decision belongs to doctors and patients, not to a research-only rule.",
             "Please let patients choose it now rather than waiting for trials."],
        ],
    },
}

ROLES = ["consultant in pain medicine", "podiatric surgeon", "physiotherapist", "interventional radiologist",
         "GP with an interest in musculoskeletal pain", "clinical researcher"]
GREETINGS = ["", "", "Dear committee,", "To whom it may concern,", "Hello,", "Dear NICE,"]
SIGN_OFFS = ["", "", "Yours sincerely, {name}", "Thank you, {name} ({town})", "Regards, {name}", "Many thanks."]
INTROS = ["", "", "", "I am writing in response to the draft.", "I saw this consultation through a patient group.",
          "I would like to add my voice.", "Please read my comment.", "This matters a lot to me."]

# --- Independently written comments ------------------------------------------------------------------
# Built from clause fragments, so that comments on one topic share ideas but not sentences.

OWN_WORDS = {
    # Same topic and position as campaign A and D: offer it now.
    "offer_now": {
        "themes": ["Offer the procedure now"],
        "extra_themes": ["Access and waiting times", "Living with neuroma pain"],
        "sections": ["1.1", "document", "2.6"],
        "openers": ["I disagree with recommendation 1.1.", "I think the committee is being too cautious.",
                    "The draft is too restrictive in my opinion.", "As a patient I was disappointed by this draft.",
                    "I would ask you to think again about 1.1.", "I do not agree with limiting this to research.",
                    "Speaking as a carer, I found the recommendation hard to read.", ""],
        "claims": ["My consultant offered me cryoablation last year and it reduced my foot pain by more than half.",
                   "Several people in my support group have had the treatment privately with good results.",
                   "The case series show most people get meaningful relief, even if they are small.",
                   "It seems unfair to hold back a low-risk option when the alternatives are surgery or strong painkillers.",
                   "Surgery to remove a neuroma can leave a new stump neuroma, so a less invasive option matters.",
                   "The existing evidence, though limited, points in a consistent direction.",
                   "For people who have tried insoles and steroid injections there is nothing left except an operation.",
                   "My mother has been on gabapentin for three years and it makes her drowsy without fixing the pain.",
                   "Clinicians already use it in some hospitals, and those units could share their outcomes.",
                   "A treatment that can be repeated if the pain returns is worth having available.",
                   "I paid for it myself in the end because I could not get it locally.",
                   "The harms reported so far look minor and short-lived.",
                   "A friend in Cardiff was walking without a stick within a week of having it.",
                   "Waiting another five years for a trial would mean five more years of pain for people like me.",
                   "Radiofrequency ablation is already offered for other nerve pain with similar evidence.",
                   "Not everyone lives near a research centre, so a trial-only approach excludes most of us.",
                   "The alternative for me was a nerve block that wore off after a fortnight.",
                   "Quality of life for people with this pain is very poor, and that should count for something.",
                   "My GP said he would refer me if only the guidance allowed it.",
                   "Even a few months of relief would let me get back to work."],
        "asks": ["It should be available with careful patient selection.",
                 "Allow specialist centres to offer it outside of trials.",
                 "Please make it an option with special arrangements for consent and audit.",
                 "I would rather see it offered with monitoring than not at all.",
                 "Let experienced units use it now and publish what they find.",
                 "Patients should be able to have it on the NHS if their doctor agrees."],
    },
    # Same topic and position as campaign B: more research, registers.
    "research_data": {
        "themes": ["Register and trials"],
        "extra_themes": ["Evidence is too limited", "Outcomes and follow-up"],
        "sections": ["1.2", "3.1", "3.2"],
        "openers": ["From a research point of view, the draft is sensible.", "I lead a pain service and agree with 1.2.",
                    "I have a few points on the research recommendation.", "Our department has discussed this draft.",
                    "As an epidemiologist I would add the following.", ""],
        "claims": ["The published series are retrospective and rarely report how many patients were lost to follow-up.",
                   "Outcome data should include function and days off work, not only pain scores.",
                   "A sham-controlled design is difficult but feasible, as has been done for radiofrequency denervation.",
                   "Existing registries for interventional pain procedures could be extended rather than building a new one.",
                   "Follow-up of at least two years is needed because neuroma pain often comes back.",
                   "Patient-reported outcome measures should be agreed before any study starts.",
                   "Trials should separate Morton's neuroma from other peripheral neuromas, as the anatomy differs.",
                   "Collecting data on repeat procedures would show how durable the effect is.",
                   "Small single-centre studies tend to overstate benefit.",
                   "The recommendation could name the outcomes a study should report.",
                   "Selection bias is likely because the centres publishing are enthusiasts.",
                   "Blinding the assessor is possible even when the operator cannot be blinded.",
                   "Cohort data from routine practice could be linked to hospital episode statistics.",
                   "The trial should record which imaging method was used so results can be compared.",
                   "Recruitment will be slow unless several countries take part.",
                   "Stopping rules and safety monitoring should be planned in advance.",
                   "Results should be published whether they are positive or negative.",
                   "Researchers should report how many people needed a second procedure."],
        "asks": ["I support the research recommendation but would like it to be more specific.",
                 "Please encourage centres to pool their data.",
                 "Consider listing the minimum dataset that should be collected.",
                 "The committee could point researchers to a core outcome set.",
                 "Funders should be made aware of this gap."],
    },
    # Same topic and position as campaign C: cost.
    "cost": {
        "themes": ["Cost and value for money"],
        "extra_themes": ["Evidence is too limited"],
        "sections": ["3.5", "document", "2.4"],
        "openers": ["I work in NHS finance.", "I have a concern about cost.", "Thinking as a commissioner,",
                    "Money is the elephant in the room here.", "From a value perspective,", ""],
        "claims": ["Cryoprobes are single use and cost several hundred pounds each.",
                   "Commissioners will want to know the cost per quality-adjusted life year before funding this.",
                   "Interventional radiology lists are already oversubscribed, so every slot has an opportunity cost.",
                   "Insoles and footwear advice are cheap, and many people improve with them alone.",
                   "If repeat procedures are needed the lifetime cost could be much higher than it looks.",
                   "There is no economic evaluation in the evidence review at all.",
                   "Private providers charge well over a thousand pounds, which gives some idea of the cost.",
                   "The budget impact would be small if it were limited to people who failed all other options.",
                   "The savings from fewer clinic visits and painkiller prescriptions are rarely counted.",
                   "Theatre time is the most expensive part, and a clinic room with ultrasound would be cheaper.",
                   "Surgery also has costs, including time off work and rehabilitation.",
                   "The price of the console and its maintenance has to be spread over few patients.",
                   "A cost comparison with surgical excision would be informative.",
                   "Local trusts will not fund it without national guidance on value.",
                   "Productivity losses from chronic pain are a hidden cost to the economy.",
                   "Cheaper generic probes may become available in the next few years."],
        "asks": ["An economic model would help the committee.",
                 "I would not support routine funding until costs are clearer.",
                 "Please include a costing statement in the final guidance.",
                 "Value for money should be part of the research questions."],
    },
}

OTHER_TOPICS = {
    "safety": {
        "themes": ["Safety and complications"], "extra_themes": ["Imaging and technique"],
        "sections": ["2.5", "3.3"],
        "openers": ["I have a question about safety.", "Safety needs more emphasis.", "As a nurse in a pain clinic,", ""],
        "claims": ["Freezing near a mixed nerve could cause numbness or weakness that does not recover.",
                   "Frostbite of the skin over the probe site has been described in case reports.",
                   "Infection at the entry point is rare but should be mentioned in the patient information.",
                   "Some patients get worse pain for a few weeks after the procedure before it settles.",
                   "Harms in small series are under-reported because follow-up is short.",
                   "Adverse events should be reported to the national reporting system.",
                   "Patients on blood thinners may need them stopped beforehand, which carries its own risk.",
                   "Bleeding and bruising at the site are common but usually mild.",
                   "Long-term nerve regrowth could produce a new painful neuroma.",
                   "There is little information on using it in people with diabetes or poor circulation.",
                   "Any reduction in sensation in the toes should be explained beforehand.",
                   "Damage to nearby arteries is a theoretical risk with larger probes.",
                   "Patients should be told who to contact if the wound becomes red or hot."],
        "asks": ["Please list the known complications in section 3.3.",
                 "The consent discussion should cover nerve damage.",
                 "Safety data should be collected for every case."],
    },
    "training": {
        "themes": ["Training and specialist centres"], "extra_themes": ["Imaging and technique"],
        "sections": ["3.5", "2.5"],
        "openers": ["On who should do this procedure:", "A point about training.", "I am an interventional radiologist.", ""],
        "claims": ["Only clinicians experienced in image-guided nerve procedures should perform it.",
                   "A multidisciplinary team including a pain specialist should select patients.",
                   "There is a learning curve, and outcomes in the first cases are worse.",
                   "Centres should do enough cases each year to keep their skills up.",
                   "Podiatric surgeons could be trained to do it in foot clinics.",
                   "Mentoring for the first cases would reduce complications.",
                   "Sonographers will need extra skills to support the operator.",
                   "A national course or accreditation scheme would help standardise practice.",
                   "Foot and ankle surgeons and radiologists should agree who leads the service.",
                   "Low-volume units should refer to higher-volume ones.",
                   "Simulation training on models could shorten the learning curve.",
                   "Staff should be able to manage a vasovagal reaction during the procedure."],
        "asks": ["Please say the procedure should be done in specialist centres.",
                 "Training requirements should be set out by the professional bodies.",
                 "The guidance should mention supervision for new operators."],
    },
    "imaging": {
        "themes": ["Imaging and technique"], "extra_themes": ["Safety and complications"],
        "sections": ["2.5"],
        "openers": ["A technical point on section 2.5.", "On the description of the procedure,", ""],
        "claims": ["Ultrasound guidance lets the operator see the ice ball form in real time.",
                   "CT guidance exposes the patient to radiation and is rarely needed in the foot.",
                   "The number of freeze-thaw cycles varies between centres and this should be noted.",
                   "Nerve stimulation before freezing helps confirm the probe is on the right nerve.",
                   "Local anaesthetic alone is usually enough, so sedation is not needed.",
                   "The probe size differs between manufacturers, which affects the size of the ice ball.",
                   "Marking the skin under ultrasound before starting reduces the number of passes.",
                   "Hydrodissection can move the skin away from the ice ball and protect it.",
                   "Some centres use MRI to confirm the diagnosis before treatment.",
                   "The duration of each freeze is not reported consistently in the studies.",
                   "Warm saline on the skin is used by some operators as protection.",
                   "Diagnostic nerve blocks beforehand help predict who will benefit."],
        "asks": ["Section 2.5 could describe this in more detail.",
                 "It would help to say that technique is not standardised.",
                 "Please correct the description of the imaging used."],
    },
    "outcomes": {
        "themes": ["Outcomes and follow-up"], "extra_themes": ["Evidence is too limited"],
        "sections": ["3.2", "3.3"],
        "openers": ["About the outcomes in 3.2:", "I agree with the key outcomes listed.", ""],
        "claims": ["Quality of life matters more to patients than a pain score on the day.",
                   "Return to normal footwear is an outcome patients care about.",
                   "Use of painkillers before and after is a useful, objective measure.",
                   "Relief lasting a few months is not the same as a cure.",
                   "Sleep and mood are affected by chronic pain and should be measured.",
                   "Long-term recurrence rates are unknown.",
                   "Walking distance is easy to measure and meaningful.",
                   "Patient satisfaction should be asked about at each follow-up.",
                   "Work status and days off sick could be tracked.",
                   "Pain at rest and pain on walking should be reported separately.",
                   "Neuropathic pain questionnaires would capture the burning quality of the pain.",
                   "Outcomes should be reported for each patient, not only as averages."],
        "asks": ["Please add quality of life to the list.",
                 "Follow-up should be longer than six months.",
                 "The outcomes should be chosen with patients."],
    },
    "morton": {
        "themes": ["Morton's neuroma and alternatives"], "extra_themes": ["Cost and value for money"],
        "sections": ["2.2", "2.3", "2.4"],
        "openers": ["I had Morton's neuroma.", "About section 2.4:", "As a podiatrist,", ""],
        "claims": ["Wider shoes and a metatarsal pad solved most of my symptoms.",
                   "Steroid injections helped me for a few months each time.",
                   "Surgery left me with a numb toe but the pain went.",
                   "Alcohol injections are used in some clinics and are not mentioned.",
                   "Many people never need anything beyond footwear advice.",
                   "Custom insoles were expensive and made little difference for me.",
                   "Weight loss and calf stretches were suggested by my physio and helped a little.",
                   "I avoided high heels for a year and the pain settled.",
                   "Ultrasound-guided injections were more accurate than the ones done blind.",
                   "Shock wave therapy is offered privately for this but I do not know the evidence.",
                   "Taping the toes apart gave me some relief during flare-ups.",
                   "The waiting time for a podiatry appointment was longer than for surgery."],
        "asks": ["The draft should describe the other options more fully.",
                 "Section 2.4 could say how long to try conservative care first.",
                 "Please mention injections as an alternative."],
    },
    "patients": {
        "themes": ["Patient views were missing"], "extra_themes": ["Living with neuroma pain"],
        "sections": ["3.4"],
        "openers": ["I was surprised by section 3.4.", "Patient voices matter here.", "As a patient advocate,", ""],
        "claims": ["It is worrying that no patient commentary was received.",
                   "Patient groups for chronic pain were probably not told about the consultation.",
                   "People with neuroma pain have a lot to say about what living with it is like.",
                   "A short survey through pain charities would have been easy to run.",
                   "The lack of patient views makes the draft feel one-sided.",
                   "Carers see the effect of the pain on the whole household.",
                   "Online forums for foot pain have thousands of members who could be asked.",
                   "People who had the procedure privately could describe their experience.",
                   "The committee could hold a short patient focus group.",
                   "Lay members on the committee cannot stand in for patients with the condition.",
                   "Patient information leaflets should be written with patients."],
        "asks": ["Please reach out to patient organisations before finalising.",
                 "Could the consultation be extended to collect patient views?",
                 "Patients should be on the committee for this topic."],
    },
    "agree_research": {
        "themes": ["Research only is right"], "extra_themes": ["Evidence is too limited", "Safety and complications"],
        "sections": ["1.1", "3.1"],
        "openers": ["I agree with the draft.", "This is a sensible recommendation.", "As a GP,", "I support 1.1.", ""],
        "claims": ["The studies are too small to be sure it works.",
                   "Placebo effects are large in pain procedures, so uncontrolled studies can mislead.",
                   "Offering it widely before the evidence is in would make trials harder to recruit to.",
                   "New procedures are often adopted early and then dropped when better evidence arrives.",
                   "Most of the studies had no comparison group.",
                   "The evidence review was thorough and its conclusion follows.",
                   "Regression to the mean explains some of the improvement seen in case series.",
                   "Without randomisation it is impossible to separate the effect from natural recovery.",
                   "Hospitals should not start a new service that may have to be withdrawn.",
                   "I have seen other pain procedures fall out of use once trials were done.",
                   "Patients can still get it within a study, so they are not denied it entirely.",
                   "A cautious approach protects patients from unknown harms."],
        "asks": ["Research only is the right call for now.",
                 "I would keep the recommendation as it is.",
                 "Please do not weaken 1.1."],
    },
}

ORGANISATIONS = ["Neuroma Support Network", "British Foot Health Society", "Pain Alliance UK",
                 "Northern Interventional Radiology Group", "Patients First Trust", "Society of Pain Nurses"]


def _typo(rng: random.Random, text: str) -> str:
    words = text.split(" ")
    spots = [i for i, w in enumerate(words) if len(w) > 4 and w.isalpha()]
    if not spots:
        return text
    i = rng.choice(spots)
    w = words[i]
    k = rng.randrange(1, len(w) - 1)
    words[i] = rng.choice([w[:k] + w[k + 1:], w[:k] + w[k] + w[k:], w[:k - 1] + w[k] + w[k - 1] + w[k + 1:]])
    return " ".join(words)


def _fill(text: str, slots: dict) -> str:
    return text.format(**slots)


def _slots(rng: random.Random) -> dict:
    return {"name": f"{rng.choice(FIRST_NAMES)} {rng.choice(SURNAMES)}", "town": rng.choice(TOWNS),
            "years": rng.choice(["two", "three", "four", "five", "six", "eight", "ten", "twelve"]),
            "role": rng.choice(ROLES)}


def mail_merge(rng: random.Random, campaign: dict) -> str:
    """The letter with its slots filled, then the edits a mail merge and a hurried sender make."""
    slots = _slots(rng)
    sentences = [_fill(s, slots) for s in campaign["letter"]]
    if rng.random() < 0.5:  # swap a few synonyms
        for word, other in rng.sample(sorted(campaign["synonyms"].items()), k=rng.randint(1, 3)):
            sentences = [s.replace(word, other) for s in sentences]
    if rng.random() < 0.35 and len(sentences) > 3:  # drop a middle sentence
        del sentences[rng.randrange(1, len(sentences) - 1)]
    if rng.random() < 0.3 and len(sentences) > 3:  # reorder two middle sentences
        i = rng.randrange(1, len(sentences) - 2)
        sentences[i], sentences[i + 1] = sentences[i + 1], sentences[i]
    for _ in range(rng.choice([0, 0, 1, 2, 3])):
        i = rng.randrange(len(sentences))
        sentences[i] = _typo(rng, sentences[i])
    greeting = rng.choice(GREETINGS)
    sign_off = _fill(rng.choice(SIGN_OFFS), slots)
    return " ".join(part for part in [greeting, *sentences, sign_off] if part)


def own_words_member(rng: random.Random, campaign: dict) -> str:
    """A supporter's version: some of the campaign's points, each in one of its supporters' wordings."""
    slots = _slots(rng)
    points = campaign["points"]
    chosen = rng.sample(range(len(points)), k=rng.randint(max(2, len(points) - 2), len(points)))
    chosen.sort()
    if rng.random() < 0.4:
        rng.shuffle(chosen)
    sentences = [_fill(rng.choice(points[i]), slots) for i in chosen]
    intro = rng.choice(INTROS)
    if rng.random() < 0.3:
        sentences.insert(0, f"I live in {slots['town']}.")
    text = " ".join(part for part in [intro, *sentences] if part)
    return _typo(rng, text) if rng.random() < 0.3 else text


# How people who never saw each other's comments word the same idea differently.
OWN_WORDINGS = {
    "should": ["ought to", "needs to", "must"], "patients": ["people", "sufferers"], "people": ["patients", "folk"],
    "treatment": ["therapy", "option"], "many": ["lots of", "plenty of"], "often": ["frequently", "usually"],
    "small": ["tiny", "limited"], "because": ["as", "since"], "before": ["prior to", "ahead of"],
    "important": ["key", "vital"], "worth": ["valuable"], "very": ["really", "extremely"],
    "think": ["feel", "believe"], "would": ["could"], "data": ["figures", "information"],
    "studies": ["papers", "trials"], "the": ["this"], "is": ["seems"], "and": ["and also"],
}
HEDGES = ["I think ", "To my mind, ", "Honestly, ", "In my experience, ", "I believe ", "It seems to me that ",
          "Frankly, ", "As far as I can tell, "]


def reword(rng: random.Random, sentence: str) -> str:
    """The same idea in a writer's own words: a hedge, and some words swapped for their own."""
    words = sentence.split(" ")
    for i, word in enumerate(words):
        choices = OWN_WORDINGS.get(word)
        if choices and rng.random() < 0.5:
            words[i] = rng.choice(choices)
    text = " ".join(words)
    if rng.random() < 0.35:
        text = rng.choice(HEDGES) + text[0].lower() + text[1:]
    return text


def own_comment(rng: random.Random, topic: dict, used: list[set]) -> str:
    """An independently written comment: an opener, one to three claims, maybe a request.

    A comment that shares half its claims with another is drawn again.
    """
    for _ in range(200):
        claims = rng.sample(topic["claims"], k=rng.choice([2, 3, 3]) if rng.random() < 0.85 else 1)
        if any(len(set(claims) & other) / len(set(claims) | other) >= 0.5 for other in used):
            continue
        used.append(set(claims))
        parts = [rng.choice(topic["openers"]), *(reword(rng, c) for c in claims)]
        if rng.random() < 0.6:
            parts.append(reword(rng, rng.choice(topic["asks"])))
        return " ".join(p for p in parts if p)
    raise RuntimeError(f"fragments exhausted after {len(used)} comments: add more claims to this topic")


PARTICIPANTS = ["member_of_public", "patient_or_carer", "professional", "researcher", "organisation"]


def build(seed: int) -> list[dict]:
    rng = random.Random(seed)
    rows: list[dict] = []

    def add(body: str, section: str, themes: list[str], campaign: str | None, kinds: list[str]) -> None:
        kind = rng.choice(kinds)
        rows.append({"section": section, "participant_type": kind,
                     "organisation": rng.choice(ORGANISATIONS) if kind == "organisation" else None,
                     "body": body, "themes": themes, "campaign": campaign})

    public = ["member_of_public", "patient_or_carer"]
    sizes = {"A": (95, 20), "B": (55, 14), "C": (24, 8), "D": (30, 7)}
    for label, (copies, reworded) in sizes.items():
        campaign = CAMPAIGNS[label]
        kinds = ["professional", "researcher"] if label == "B" else public
        for _ in range(copies):
            themes = campaign["themes"][:rng.choice([1, 2])]
            add(mail_merge(rng, campaign), rng.choice(campaign["sections"]), themes, label, kinds)
        for _ in range(reworded):
            themes = campaign["themes"][:rng.choice([1, 2])]
            add(own_words_member(rng, campaign), rng.choice(campaign["sections"]), themes, label, kinds)

    counts = {"offer_now": 40, "research_data": 28, "cost": 22}
    counts |= {name: 18 for name in OTHER_TOPICS}
    for name, count in counts.items():
        topic = OWN_WORDS.get(name) or OTHER_TOPICS[name]
        used: list[set] = []
        for _ in range(count):
            themes = list(topic["themes"])
            if rng.random() < 0.4:
                themes.append(rng.choice(topic["extra_themes"]))
            add(own_comment(rng, topic, used), rng.choice(topic["sections"]), themes, None, PARTICIPANTS)

    rng.shuffle(rows)
    return [{"id": f"EV{n:04d}", **row} for n, row in enumerate(rows, start=1)]


def themes_file() -> list[dict]:
    return [{"name": name, "description": description} for name, description in THEMES.items()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    rows = build(args.seed)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    themes_path = args.out.with_name(args.out.stem + "_themes.json")
    themes_path.write_text(json.dumps(themes_file(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    campaigns = sum(1 for r in rows if r["campaign"])
    print(f"wrote {len(rows)} comments ({campaigns} in campaigns) to {args.out} and {len(THEMES)} themes to {themes_path}")


if __name__ == "__main__":
    main()
