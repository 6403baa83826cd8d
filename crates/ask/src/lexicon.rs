//! Words: the tokenizer, the vocabulary of sports, units and topics we cannot answer,
//! and the phrase tables the parser reads. Matching is on lowercase tokens; every token that a rule uses is marked, so
//! later rules do not read it twice ("last" in "last week" is not "my last run").

use crate::plan::{DayPart, GroupBy, Metric, SportSel};
use domain::{SportType, Units};

/// A question cut into lowercase words, with the quoted parts kept apart.
#[derive(Debug, Clone, Default)]
pub struct Tokens {
    words: Vec<String>,
    used: Vec<bool>,
    /// Text between double quotes, as typed (names to look for).
    pub quoted: Vec<String>,
    /// Misspelt words read as the one known word they are close to, as (typed, read).
    pub respelt: Vec<(String, String)>,
}

impl Tokens {
    /// Splits a question into words: lowercase, letters and digits apart ("15km" is
    /// "15" "km"), ISO dates ("2024-03-03") and decimals ("21.1") kept whole, ordinal
    /// suffixes dropped ("3rd" is "3"), apostrophes removed ("year's" is "years").
    pub fn new(text: &str) -> Self {
        let mut quoted = Vec::new();
        let mut rest = String::with_capacity(text.len());
        let mut inside: Option<String> = None;
        for c in text.chars() {
            let is_quote = matches!(c, '"' | '“' | '”');
            match (&mut inside, is_quote) {
                (None, true) => inside = Some(String::new()),
                (Some(q), true) => {
                    let q = q.trim().to_string();
                    if !q.is_empty() {
                        quoted.push(q);
                    }
                    inside = None;
                    rest.push(' ');
                }
                (Some(q), false) => q.push(c),
                (None, false) => rest.push(c),
            }
        }
        // An unclosed quote is just text.
        if let Some(q) = inside {
            rest.push(' ');
            rest.push_str(&q);
        }
        let mut words = split_words(&rest);
        let mut respelt = Vec::new();
        for w in &mut words {
            if let Some(known) = crate::spelling::correction(w) {
                respelt.push((std::mem::replace(w, known.to_owned()), known.to_owned()));
            }
        }
        let used = vec![false; words.len()];
        Self {
            words,
            used,
            quoted,
            respelt,
        }
    }

    /// Number of words.
    pub fn len(&self) -> usize {
        self.words.len()
    }

    /// Whether there are no words at all.
    pub fn is_empty(&self) -> bool {
        self.words.is_empty() && self.quoted.is_empty()
    }

    /// The word at `i`, used or not.
    pub fn word(&self, i: usize) -> Option<&str> {
        self.words.get(i).map(String::as_str)
    }

    /// The word at `i` if no rule has used it yet.
    pub fn free(&self, i: usize) -> Option<&str> {
        if self.used.get(i).copied().unwrap_or(true) {
            None
        } else {
            self.word(i)
        }
    }

    /// Whether the free word at `i` is `w`.
    pub fn is(&self, i: usize, w: &str) -> bool {
        self.free(i) == Some(w)
    }

    /// Whether the free word at `i` is one of `ws`.
    pub fn is_any(&self, i: usize, ws: &[&str]) -> bool {
        self.free(i).is_some_and(|x| ws.contains(&x))
    }

    /// Whether the free words from `i` spell `seq`.
    pub fn seq_at(&self, i: usize, seq: &[&str]) -> bool {
        !seq.is_empty() && seq.iter().enumerate().all(|(k, w)| self.is(i + k, w))
    }

    /// Where `seq` first appears among free words.
    pub fn find_seq(&self, seq: &[&str]) -> Option<usize> {
        (0..self.len()).find(|&i| self.seq_at(i, seq))
    }

    /// Marks `n` words from `i` as used.
    pub fn take(&mut self, i: usize, n: usize) {
        for k in i..(i + n).min(self.used.len()) {
            self.used[k] = true;
        }
    }

    /// Finds and uses `seq`; whether it was there.
    pub fn take_seq(&mut self, seq: &[&str]) -> bool {
        match self.find_seq(seq) {
            Some(i) => {
                self.take(i, seq.len());
                true
            }
            None => false,
        }
    }

    /// Finds and uses the first of several phrases; whether one was there.
    pub fn take_any_seq(&mut self, seqs: &[&[&str]]) -> bool {
        seqs.iter().any(|s| self.take_seq(s))
    }

    /// Whether any word (used or not) is one of `ws`.
    pub fn has_any(&self, ws: &[&str]) -> bool {
        self.words.iter().any(|w| ws.contains(&w.as_str()))
    }

    /// Whether the words (used or not) contain `seq` in a row.
    pub fn has_seq(&self, seq: &[&str]) -> bool {
        !seq.is_empty()
            && self
                .words
                .windows(seq.len())
                .any(|win| win.iter().zip(seq).all(|(a, b)| a == b))
    }

    /// The free word at `i` read as a non-negative number.
    pub fn number(&self, i: usize) -> Option<f64> {
        let w = self.free(i)?;
        if let Some(n) = NUMBER_WORDS.iter().position(|x| *x == w) {
            return Some(n as f64 + 2.0);
        }
        if !w.starts_with(|c: char| c.is_ascii_digit()) || w.contains('-') {
            return None;
        }
        w.parse::<f64>().ok().filter(|v| v.is_finite())
    }

    /// Number of free words that are not filler.
    pub fn meaningful_left(&self) -> usize {
        (0..self.len())
            .filter_map(|i| self.free(i))
            .filter(|w| !is_filler(w))
            .count()
    }

    /// The parts of the question no rule used, as phrases in question order: runs of
    /// free words, trimmed of filler at both ends ("before 6 30", "with my dog").
    /// Empty when every word was used or is filler. Call once the rules are done: it
    /// first uses the filler phrases among the free words.
    pub fn unused_phrases(&mut self) -> Vec<String> {
        self.take_filler_phrases();
        let mut out = Vec::new();
        let mut run: Vec<&str> = Vec::new();
        let mut flush = |run: &mut Vec<&str>| {
            let start = run.iter().position(|w| !is_filler(w));
            let end = run.iter().rposition(|w| !is_filler(w));
            if let (Some(a), Some(b)) = (start, end) {
                out.push(run[a..=b].join(" "));
            }
            run.clear();
        };
        for i in 0..self.len() {
            match self.free(i) {
                Some(w) => run.push(w),
                None => flush(&mut run),
            }
        }
        flush(&mut run);
        out
    }
}

/// Words whose possessive means the word itself ("yesterday's run", "Sunday's ride").
const POSSESSIVE_DAYS: &[&str] = &[
    "yesterday",
    "today",
    "tonight",
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
    "weekend",
    "morning",
    "afternoon",
    "evening",
    "night",
    "week",
    "month",
    "year",
];

/// Small numbers written out, from two ("my two longest rides"); "one" is filler.
const NUMBER_WORDS: &[&str] = &[
    "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
];

/// Whether a word carries no constraint wherever it stands: it belongs to one of the
/// closed classes below. Rules still see such words (a class word may be part of a
/// phrase that means something, "how many times"); only words no rule used and no class
/// holds are reported as unused, and only those decline an answer.
pub fn is_filler(w: &str) -> bool {
    FILLER_CLASSES.iter().any(|class| class.contains(&w))
}

/// The closed classes of words that carry no constraint, one table each.
const FILLER_CLASSES: &[&[&str]] = &[
    GREETINGS_AND_POLITENESS,
    HEDGES,
    PRONOUNS_AND_DETERMINERS,
    AUXILIARIES,
    INTENSIFIERS,
    LIGHT_VERBS,
    ASKING_VERBS,
    FUNCTION_WORDS,
    SUBJECT_WORDS,
];

/// Greetings, thanks and politeness: social, never about the data ("hey, …",
/// "…, thanks").
const GREETINGS_AND_POLITENESS: &[&str] = &[
    "hey", "hi", "hello", "hiya", "yo", "thanks", "thank", "thx", "ty", "cheers", "please", "pls",
    "plz", "kindly", "sorry", "ok", "okay", "hmm", "um", "uh", "oh", "dear",
];

/// Hedges and discourse words: they say how the person feels about asking, not what
/// to compute ("just wondering", "out of curiosity", "basically").
const HEDGES: &[&str] = &[
    "wondering",
    "wonder",
    "curious",
    "curiosity",
    "basically",
    "honestly",
    "anyway",
    "anyways",
    "btw",
    "well",
    "so",
    "like",
    "maybe",
    "perhaps",
];

/// Pronouns and determiners: they point at the asker or at what the rules already read.
const PRONOUNS_AND_DETERMINERS: &[&str] = &[
    "a", "an", "the", "my", "me", "i", "myself", "mine", "you", "your", "our", "we", "it", "its",
    "them", "those", "these", "this", "that", "there", "some", "any", "which", "what", "whats",
    "one", "ones",
];

/// Auxiliaries and modals: tense and mood, which the period words decide instead.
const AUXILIARIES: &[&str] = &[
    "did", "do", "does", "have", "has", "had", "was", "were", "is", "are", "be", "been", "am",
    "can", "could", "would", "will", "should", "ive", "im", "youve",
];

/// Intensifiers: emphasis without a constraint ("have I ever", "actually", "all").
const INTENSIFIERS: &[&str] = &[
    "ever",
    "actually",
    "really",
    "exactly",
    "even",
    "just",
    "all",
    "too",
    "very",
    "also",
    "again",
    "literally",
    "truly",
    "still",
];

/// Light verbs that only say an activity happened ("did I go", "how far have I
/// logged", "miles I clocked"): the sport and the measure come from other words.
const LIGHT_VERBS: &[&str] = &[
    "go",
    "went",
    "gone",
    "going",
    "get",
    "got",
    "gotten",
    "done",
    "doing",
    "log",
    "logged",
    "logging",
    "recorded",
    "recording",
    "clock",
    "clocked",
    "manage",
    "managed",
    "complete",
    "completed",
    "take",
    "took",
    "taken",
    "cover",
    "covered",
    "spend",
    "spent",
    "burn",
    "burns",
    "burning",
    "burned",
    "burnt",
    "happen",
    "happens",
    "happened",
    "lasted",
    "lasting",
    "marked",
    "tagged",
];

/// Verbs of asking and showing: every answer is shown, whichever is used.
const ASKING_VERBS: &[&str] = &[
    "tell",
    "give",
    "show",
    "list",
    "find",
    "view",
    "display",
    "see",
    "know",
    "let",
    "want",
    "calculate",
    "analyze",
    "analyse",
    "look",
    "looks",
    "looking",
    "considering",
    "organized",
    "remind",
];

/// Function words: prepositions and conjunctions no rule needs on their own.
const FUNCTION_WORDS: &[&str] = &[
    "in", "on", "of", "for", "to", "at", "and", "or", "with", "by", "from", "as", "than", "if",
    "but", "about", "when", "per", "each", "every", "up", "out", "during", "over", "same", "how",
    "many", "much", "far", "s", "hows",
];

/// Words naming what every question is about: the athlete's activities in Strava.
const SUBJECT_WORDS: &[&str] = &[
    "strava",
    "data",
    "active",
    "different",
    "counts",
    "table",
    "details",
    "detail",
    "match",
    "matches",
    "game",
    "games",
    "time",
    "times",
    "activity",
    "activities",
    "workout",
    "workouts",
    "session",
    "sessions",
    "total",
    "number",
    "count",
];

/// Phrases that carry no constraint as a whole although a word of them alone might
/// ("quick question" is not about quick runs, "put in" is not a place). Taken once the
/// rules are done, from the words they left.
const FILLER_PHRASES: &[&[&str]] = &[
    &["quick", "question"],
    &["a", "question"],
    &["question", "for", "you"],
    &["out", "of", "curiosity"],
    &["i", "was", "wondering"],
    &["help", "me"],
    &["how", "are", "you"],
    &["how", "are", "you", "doing"],
    &["if", "possible"],
    &["if", "you", "can"],
    &["put", "in"],
    &["racked", "up"],
    &["rack", "up"],
    &["for", "me"],
];

/// Small talk addressed to the product ("how are you today?"): with nothing else to
/// answer, it gets a friendly word and examples, not a list of today's activities.
pub const SMALL_TALK: &[&[&str]] = &[
    &["how", "are", "you"],
    &["who", "are", "you"],
    &["whats", "up"],
    &["what", "can", "you", "do"],
];

/// The reply to small talk.
pub const SMALL_TALK_REPLY: &str = "Hello! I answer questions about your own Strava activities. Try, for example, \"how far did I run this week?\" or \"my longest ride this year\".";

/// How many words at the start of the question are a greeting or a hedge ("hey", "ok
/// so", "thanks"), which may stand before a follow-up's lead.
pub fn lead_in_words(t: &Tokens) -> usize {
    (0..t.len())
        .take_while(|&i| {
            t.free(i)
                .is_some_and(|w| GREETINGS_AND_POLITENESS.contains(&w) || HEDGES.contains(&w))
        })
        .count()
}

impl Tokens {
    /// Uses the free words that spell a filler phrase, so they are not reported as
    /// left over.
    fn take_filler_phrases(&mut self) {
        for phrase in FILLER_PHRASES {
            while self.take_seq(phrase) {}
        }
    }
}

pub(crate) fn split_words(text: &str) -> Vec<String> {
    let lower = text.to_lowercase();
    let chars: Vec<char> = lower.chars().collect();
    let mut words = Vec::new();
    let mut cur = String::new();
    let flush = |cur: &mut String, words: &mut Vec<String>| {
        if !cur.is_empty() {
            words.push(std::mem::take(cur));
        }
    };
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let prev = cur.chars().last();
        let next = chars.get(i + 1).copied();
        if c.is_alphanumeric() {
            // Letters and digits meet: a new word ("15km", "5k").
            // '.' and '-' only enter a word inside numbers and dates.
            if let Some(p) = prev
                && ((p.is_ascii_digit() || p == '.' || p == '-') != c.is_ascii_digit())
            {
                flush(&mut cur, &mut words);
            }
            cur.push(c);
        } else if (c == '.' || c == ',')
            && prev.is_some_and(|p| p.is_ascii_digit())
            && next.is_some_and(|n| n.is_ascii_digit())
            && cur.chars().all(|x| x.is_ascii_digit() || x == '.')
        {
            // "21.1" is one number; "1,500" is fifteen hundred.
            if c == '.' {
                cur.push('.');
            }
        } else if c == '-' && is_iso_date_prefix(&cur) && next.is_some_and(|n| n.is_ascii_digit()) {
            cur.push('-');
        } else if c == '\'' || c == '’' {
            // Apostrophes join: "year's" -> "years", "don't" -> "dont". A day's
            // possessive is the day itself: "yesterday's run" is the run of yesterday.
            let ends_word = !chars.get(i + 2).is_some_and(|c| c.is_alphanumeric());
            if next == Some('s') && ends_word && POSSESSIVE_DAYS.contains(&cur.as_str()) {
                i += 1;
            }
        } else {
            flush(&mut cur, &mut words);
        }
        i += 1;
    }
    flush(&mut cur, &mut words);
    // Drop ordinal suffixes after numbers: "3rd" came out as "3" "rd".
    let mut out: Vec<String> = Vec::with_capacity(words.len());
    for w in words {
        let after_number = out
            .last()
            .is_some_and(|p| p.chars().all(|c| c.is_ascii_digit()));
        if after_number && matches!(w.as_str(), "st" | "nd" | "rd" | "th") {
            continue;
        }
        out.push(w);
    }
    out
}

/// "2024", "2024-03" and "2024-03-0": the start of an ISO date being read.
fn is_iso_date_prefix(cur: &str) -> bool {
    let parts: Vec<&str> = cur.split('-').collect();
    let last = parts.len() - 1;
    parts[0].len() == 4
        && parts.len() <= 3
        && parts.iter().enumerate().all(|(i, p)| {
            (i == last && i > 0 || !p.is_empty()) && p.chars().all(|c| c.is_ascii_digit())
        })
}

/// A sport phrase and the sport types it means.
struct SportWord {
    words: &'static [&'static str],
    types: &'static [&'static str],
    singular: &'static str,
    plural: &'static str,
}

const RUN_TYPES: &[&str] = &["Run", "TrailRun", "VirtualRun"];
const RIDE_TYPES: &[&str] = &[
    "Ride",
    "GravelRide",
    "MountainBikeRide",
    "VirtualRide",
    "EBikeRide",
    "EMountainBikeRide",
];

macro_rules! sw {
    ($types:expr, $s:literal, $p:literal, [$($w:literal),+]) => {
        SportWord { words: &[$($w),+], types: $types, singular: $s, plural: $p }
    };
}

/// Longer phrases first, so "trail run" wins over "run".
const SPORT_WORDS: &[SportWord] = &[
    sw!(&["TrailRun"], "trail run", "trail runs", ["trail", "runs"]),
    sw!(&["TrailRun"], "trail run", "trail runs", ["trail", "run"]),
    sw!(
        &["TrailRun"],
        "trail run",
        "trail runs",
        ["trail", "running"]
    ),
    sw!(
        &["VirtualRun"],
        "virtual run",
        "virtual runs",
        ["virtual", "runs"]
    ),
    sw!(
        &["VirtualRun"],
        "virtual run",
        "virtual runs",
        ["virtual", "run"]
    ),
    sw!(
        &["VirtualRun"],
        "virtual run",
        "virtual runs",
        ["treadmill"]
    ),
    sw!(
        &["VirtualRide"],
        "virtual ride",
        "virtual rides",
        ["virtual", "rides"]
    ),
    sw!(
        &["VirtualRide"],
        "virtual ride",
        "virtual rides",
        ["virtual", "ride"]
    ),
    sw!(
        &["VirtualRide"],
        "virtual ride",
        "virtual rides",
        ["indoor", "rides"]
    ),
    sw!(
        &["VirtualRide"],
        "virtual ride",
        "virtual rides",
        ["indoor", "ride"]
    ),
    sw!(
        &["VirtualRide"],
        "virtual ride",
        "virtual rides",
        ["indoor", "cycling"]
    ),
    sw!(&["VirtualRide"], "virtual ride", "virtual rides", ["zwift"]),
    sw!(
        &["GravelRide"],
        "gravel ride",
        "gravel rides",
        ["gravel", "rides"]
    ),
    sw!(
        &["GravelRide"],
        "gravel ride",
        "gravel rides",
        ["gravel", "ride"]
    ),
    sw!(&["GravelRide"], "gravel ride", "gravel rides", ["gravel"]),
    sw!(
        &["MountainBikeRide"],
        "mountain bike ride",
        "mountain bike rides",
        ["mountain", "bike"]
    ),
    sw!(
        &["MountainBikeRide"],
        "mountain bike ride",
        "mountain bike rides",
        ["mountain", "biking"]
    ),
    sw!(
        &["MountainBikeRide"],
        "mountain bike ride",
        "mountain bike rides",
        ["mtb"]
    ),
    sw!(&["EBikeRide"], "e-bike ride", "e-bike rides", ["e", "bike"]),
    sw!(&["EBikeRide"], "e-bike ride", "e-bike rides", ["ebike"]),
    sw!(
        &["WeightTraining"],
        "strength session",
        "strength sessions",
        ["weight", "training"]
    ),
    sw!(
        &["WeightTraining"],
        "strength session",
        "strength sessions",
        ["weights"]
    ),
    sw!(
        &["WeightTraining"],
        "strength session",
        "strength sessions",
        ["strength"]
    ),
    sw!(
        &["WeightTraining"],
        "strength session",
        "strength sessions",
        ["gym"]
    ),
    sw!(
        &["WeightTraining"],
        "strength session",
        "strength sessions",
        ["lifting"]
    ),
    sw!(
        &["RockClimbing"],
        "climbing session",
        "climbing sessions",
        ["rock", "climbing"]
    ),
    sw!(
        &["RockClimbing"],
        "climbing session",
        "climbing sessions",
        ["bouldering"]
    ),
    sw!(&["IceSkate"], "ice skate", "ice skates", ["ice", "skating"]),
    sw!(
        &["InlineSkate"],
        "inline skate",
        "inline skates",
        ["inline", "skating"]
    ),
    sw!(
        &["NordicSki"],
        "Nordic ski",
        "Nordic skis",
        ["cross", "country", "skiing"]
    ),
    sw!(&["AlpineSki"], "ski day", "ski days", ["skiing"]),
    sw!(&["AlpineSki"], "ski day", "ski days", ["ski"]),
    sw!(
        &["StandUpPaddling"],
        "paddle",
        "paddles",
        ["paddle", "boarding"]
    ),
    sw!(&["Soccer"], "football game", "football games", ["football"]),
    sw!(&["Dance"], "dance", "dances", ["dancing"]),
    sw!(&["Golf"], "round of golf", "rounds of golf", ["golfing"]),
    sw!(&["Sail"], "sail", "sails", ["sailing"]),
    sw!(&["Kayaking"], "kayak", "kayaks", ["kayak"]),
    sw!(&["Snowshoe"], "snowshoe", "snowshoes", ["snowshoeing"]),
    sw!(&["Kitesurf"], "kitesurf", "kitesurfs", ["kitesurfing"]),
    sw!(&["Windsurf"], "windsurf", "windsurfs", ["windsurfing"]),
    sw!(&["Rowing"], "rowing session", "rowing sessions", ["rowing"]),
    sw!(RUN_TYPES, "run", "runs", ["runs"]),
    sw!(RUN_TYPES, "run", "runs", ["run"]),
    sw!(RUN_TYPES, "run", "runs", ["running"]),
    sw!(RUN_TYPES, "run", "runs", ["ran"]),
    sw!(RUN_TYPES, "run", "runs", ["jog"]),
    sw!(RUN_TYPES, "run", "runs", ["jogs"]),
    sw!(RUN_TYPES, "run", "runs", ["jogging"]),
    sw!(RUN_TYPES, "run", "runs", ["jogged"]),
    sw!(RUN_TYPES, "run", "runs", ["parkrun"]),
    sw!(RUN_TYPES, "run", "runs", ["parkruns"]),
    sw!(RIDE_TYPES, "ride", "rides", ["rides"]),
    sw!(RIDE_TYPES, "ride", "rides", ["ride"]),
    sw!(RIDE_TYPES, "ride", "rides", ["rode"]),
    sw!(RIDE_TYPES, "ride", "rides", ["ridden"]),
    sw!(RIDE_TYPES, "ride", "rides", ["riding"]),
    sw!(RIDE_TYPES, "ride", "rides", ["cycling"]),
    sw!(RIDE_TYPES, "ride", "rides", ["cycle"]),
    sw!(RIDE_TYPES, "ride", "rides", ["cycled"]),
    sw!(RIDE_TYPES, "ride", "rides", ["bike"]),
    sw!(RIDE_TYPES, "ride", "rides", ["bikes"]),
    sw!(RIDE_TYPES, "ride", "rides", ["biking"]),
    sw!(RIDE_TYPES, "ride", "rides", ["biked"]),
    sw!(&["Swim"], "swim", "swims", ["swims"]),
    sw!(&["Swim"], "swim", "swims", ["swim"]),
    sw!(&["Swim"], "swim", "swims", ["swimming"]),
    sw!(&["Swim"], "swim", "swims", ["swam"]),
    sw!(&["Swim"], "swim", "swims", ["swum"]),
    sw!(&["Swim"], "swim", "swims", ["pool"]),
    sw!(&["Walk"], "walk", "walks", ["walks"]),
    sw!(&["Walk"], "walk", "walks", ["walk"]),
    sw!(&["Walk"], "walk", "walks", ["walking"]),
    sw!(&["Walk"], "walk", "walks", ["walked"]),
    sw!(&["Hike"], "hike", "hikes", ["hikes"]),
    sw!(&["Hike"], "hike", "hikes", ["hike"]),
    sw!(&["Hike"], "hike", "hikes", ["hiking"]),
    sw!(&["Hike"], "hike", "hikes", ["hiked"]),
    sw!(&["Yoga"], "yoga session", "yoga sessions", ["yoga"]),
];

/// Words that look like sports but mean "anything": never looked up as a sport type.
const GENERIC: &[&str] = &[
    "workout",
    "workouts",
    "activity",
    "activities",
    "session",
    "sessions",
    "training",
    "exercise",
];

/// Sports people do that Strava has no sport type for.
const NOT_STRAVA_SPORTS: &[&str] = &[
    "croquet",
    "chess",
    "quidditch",
    "darts",
    "bowling",
    "billiards",
    "snooker",
    "fishing",
    "hunting",
    "polo",
    "curling",
    "archery",
    "fencing",
    "boxing",
    "karate",
    "judo",
    "lacrosse",
    "rugby",
    "baseball",
    "softball",
    "handball",
    "hockey",
    "wrestling",
    "skydiving",
    "parachuting",
    "cheerleading",
    "sumo",
];

/// Uses the first sport phrase in the question; `None` if there is none.
pub fn take_sport(t: &mut Tokens) -> Option<SportSel> {
    let mut sport = take_one_sport(t)?;
    // "zwift rides", "trail runs … runs": a second sport word that names the same
    // activities, more or less narrowly, restates the first; the narrower one counts.
    loop {
        let mut probe = t.clone();
        let Some(other) = take_one_sport(&mut probe) else {
            break;
        };
        let within = |a: &SportSel, b: &SportSel| a.types.iter().all(|x| b.types.contains(x));
        if within(&sport, &other) {
            *t = probe;
        } else if within(&other, &sport) {
            *t = probe;
            sport = other;
        } else {
            break;
        }
    }
    Some(sport)
}

/// A sport phrase starting exactly at word `i`, and the number of words it takes.
pub fn sport_at(t: &Tokens, i: usize) -> Option<(SportSel, usize)> {
    SPORT_WORDS
        .iter()
        .find(|sw| t.seq_at(i, sw.words))
        .map(|sw| {
            (
                SportSel {
                    types: sw.types.iter().map(|s| SportType::new(*s)).collect(),
                    singular: sw.singular.to_string(),
                    plural: sw.plural.to_string(),
                },
                sw.words.len(),
            )
        })
}

fn take_one_sport(t: &mut Tokens) -> Option<SportSel> {
    for sw in SPORT_WORDS {
        if t.take_seq(sw.words) {
            return Some(SportSel {
                types: sw.types.iter().map(|s| SportType::new(*s)).collect(),
                singular: sw.singular.to_string(),
                plural: sw.plural.to_string(),
            });
        }
    }
    // Any other Strava sport type, by its own name ("badminton", "stand up paddling").
    for n in (1..=3).rev() {
        for i in 0..t.len() {
            let words: Option<Vec<&str>> = (i..i + n).map(|k| t.free(k)).collect();
            let Some(words) = words else { continue };
            if words.iter().any(|w| GENERIC.contains(w)) {
                continue;
            }
            let joined = words.concat();
            let found = SportType::lookup(&joined).or_else(|| {
                joined
                    .strip_suffix('s')
                    .and_then(SportType::lookup)
                    .filter(|_| joined.len() > 3)
            });
            if let Some(sport) = found {
                t.take(i, n);
                let name = sport.display_name();
                return Some(SportSel {
                    types: vec![sport],
                    singular: format!("{name} activity"),
                    plural: format!("{name} activities"),
                });
            }
        }
    }
    None
}

/// A sport Strava does not know, if the question names one.
pub fn unknown_sport(t: &Tokens) -> Option<&'static str> {
    NOT_STRAVA_SPORTS.iter().copied().find(|s| t.has_any(&[s]))
}

/// Why a question is out of scope, if it is: (reason sentence).
pub fn out_of_scope(t: &Tokens) -> Option<&'static str> {
    if wants_change(t) {
        return Some(
            "I can only read your activities, not change them: edit or delete activities on Strava, and ask me about them here. For example: \"how many runs did I do this year?\"",
        );
    }
    let weather = [
        "weather",
        "rain",
        "rained",
        "raining",
        "rainy",
        "temperature",
        "windy",
        "humidity",
        "forecast",
        "sunny",
    ];
    if t.has_any(&weather) {
        return Some(WEATHER);
    }
    let food = [
        "nutrition",
        "eat",
        "ate",
        "eaten",
        "eating",
        "food",
        "diet",
        "meal",
        "meals",
        "protein",
        "carbs",
        "drink",
        "drank",
        "hydration",
        "breakfast",
        "dinner",
    ];
    if t.has_any(&food) {
        return Some(NUTRITION);
    }
    if t.has_any(&[
        "should",
        "recommend",
        "recommendation",
        "recommendations",
        "advice",
        "advise",
        "predict",
        "predicted",
        "prediction",
    ]) {
        return Some(ADVICE);
    }
    if t.has_any(&[
        "sleep", "slept", "sleeping", "nap", "naps", "hrv", "vo2max", "vo2",
    ]) {
        return Some(SLEEP);
    }
    let others = [
        "friend",
        "friends",
        "peoples",
        "someones",
        "everyones",
        "followers",
        "following",
        "everyone",
        "everybody",
        "athletes",
        "users",
        "user",
        "leaderboard",
        "club",
        "strangers",
        "people",
        "somebody",
        "someone",
        "others",
        "wife",
        "husband",
        "partner",
        "girlfriend",
        "boyfriend",
        "coach",
    ];
    if t.has_any(&others)
        || t.has_seq(&["athlete", "id"])
        || t.has_seq(&["every", "athlete"])
        || t.has_seq(&["another", "athlete"])
        || t.has_seq(&["other", "athlete"])
        || t.has_seq(&["athleteid"])
    {
        return Some(OTHERS);
    }
    None
}

const WEATHER: &str = "I don't have weather data: StravaTalk only knows the activities Strava records. Ask about distance, time, pace or elevation instead, e.g. \"how far did I run last month?\"";
const NUTRITION: &str = "I don't have nutrition data: Strava records activities, not meals. Ask about your activities instead, e.g. \"calories burned on rides this year\".";
const ADVICE: &str = "I don't give training advice or predictions: I answer questions about what you have done, from your own activities. For example: \"how far did I run each week this month?\"";
const SLEEP: &str = "I don't have sleep or recovery data: Strava records activities only. Ask about your training instead, e.g. \"how many hours did I train last week?\"";
const OTHERS: &str = "I can only answer about your own activities, never anyone else's. Ask about yours, e.g. \"my runs last week\".";

/// Whether the question asks to change data ("delete my runs", "'; drop table ...").
fn wants_change(t: &Tokens) -> bool {
    const VERBS: &[&str] = &[
        "delete", "remove", "erase", "drop", "truncate", "update", "edit", "rename", "modify",
        "insert", "upload", "alter", "grant", "wipe", "clear", "reset", "change", "create", "set",
    ];
    const LEAD: &[&str] = &[
        "please", "can", "could", "would", "will", "you", "i", "want", "to", "like", "kindly",
        "lets", "let", "me", "go", "ahead", "and", "now", "just",
    ];
    let first = (0..t.len())
        .filter_map(|i| t.word(i))
        .find(|w| !LEAD.contains(w));
    if first.is_some_and(|w| VERBS.contains(&w)) {
        return true;
    }
    [
        ["drop", "table"],
        ["delete", "from"],
        ["insert", "into"],
        ["truncate", "table"],
        ["alter", "table"],
        ["delete", "my"],
        ["delete", "all"],
        ["remove", "my"],
        ["add", "a"],
        ["add", "an"],
    ]
    .iter()
    .any(|s| t.has_seq(s))
}

/// A unit named in the question: (metres per unit, is distance (vs elevation), imperial).
pub fn distance_unit(word: &str) -> Option<(f64, bool)> {
    use domain::format::{METRES_PER_FOOT, METRES_PER_MILE, METRES_PER_YARD};
    Some(match word {
        "km" | "kms" | "kilometer" | "kilometers" | "kilometre" | "kilometres" | "k" => {
            (1000.0, false)
        }
        "mi" | "mile" | "miles" => (METRES_PER_MILE, true),
        "m" | "meter" | "meters" | "metre" | "metres" => (1.0, false),
        "ft" | "foot" | "feet" => (METRES_PER_FOOT, true),
        "yd" | "yard" | "yards" => (METRES_PER_YARD, true),
        _ => return None,
    })
}

/// Seconds in a duration unit word.
pub fn duration_unit(word: &str) -> Option<f64> {
    Some(match word {
        "h" | "hr" | "hrs" | "hour" | "hours" => 3600.0,
        "min" | "mins" | "minute" | "minutes" => 60.0,
        "s" | "sec" | "secs" | "second" | "seconds" => 1.0,
        _ => return None,
    })
}

// Phrase tables the parser reads (`parse.rs`). Where the parser takes the first phrase
// that matches, a phrase comes before any shorter one it contains.

/// Words that open a follow-up: "and in 2024?", "what about rides?", "same for swims".
pub const FOLLOW_UP_LEADS: &[&[&str]] = &[
    &["and"],
    &["what", "about"],
    &["how", "about"],
    &["same"],
    &["and", "what", "about"],
    &["also"],
];

/// Words that point back at the previous answer's activities.
pub const PRONOUNS: &[&str] = &["them", "those", "these", "it", "its", "that"];

/// Pronouns for one activity: "and its duration?".
pub const SINGLE_PRONOUNS: &[&str] = &["it", "its"];

/// Every date, said out loud: "my fastest 5k ever".
pub const ALL_TIME_PHRASES: &[&[&str]] = &[
    &["of", "all", "time"],
    &["all", "time"],
    &["alltime"],
    &["all", "times"],
    &["ever"],
    &["lifetime"],
];

/// The verb "work out": any activity, as "exercise" and "train" are.
pub const WORK_OUT_PHRASES: &[&[&str]] = &[
    &["work", "out"],
    &["worked", "out"],
    &["working", "out"],
    &["works", "out"],
];

/// Every sport, said out loud: "how many activities", "all my workouts".
pub const ANY_SPORT_WORDS: &[&str] = &[
    "everything",
    "train",
    "trained",
    "training",
    "exercised",
    "activity",
    "activities",
    "workout",
    "workouts",
    "session",
    "sessions",
    "exercise",
    "exercises",
];

/// Asking for the longest run of consecutive days.
pub const STREAK_PHRASES: &[&[&str]] = &[
    &["streak", "of", "active", "days"],
    &["streak", "of", "days"],
    &["active", "days", "in", "a", "row"],
    &["consecutive", "days"],
    &["days", "in", "a", "row"],
    &["streak"],
    &["streaks"],
    &["consecutive"],
    &["in", "a", "row"],
];

/// Words that turn the next filter around: "not commutes", "excluding virtual rides".
pub const NEGATIONS: &[&[&str]] = &[
    &["other", "than"],
    &["apart", "from"],
    &["not"],
    &["no"],
    &["non"],
    &["excluding"],
    &["exclude"],
    &["except"],
    &["without"],
    &["minus"],
];

/// Before a sport that counts too: "runs including trail runs", "rides incl. virtual".
pub const INCLUSIONS: &[&[&str]] = &[&["including"], &["include"], &["incl"], &["plus"]];

/// After a sport that counts too: "trail runs included".
pub const INCLUDED: &[&[&str]] = &[&["included"], &["too"], &["as", "well"]];

/// Between a negation and what it negates: "not counting the", "without any".
pub const NEGATION_GAP: &[&str] = &[
    "the",
    "my",
    "any",
    "a",
    "on",
    "counting",
    "including",
    "include",
];

/// Gear named after a negation: "rides with no bike set", "runs without shoes".
pub const GEAR_WORDS: &[&str] = &["gear", "bike", "bikes", "shoe", "shoes"];

/// After gear words, words that only restate it: "no bike set", "no shoes recorded".
pub const GEAR_TAILS: &[&str] = &[
    "set", "recorded", "assigned", "selected", "chosen", "logged",
];

/// Before a clock time: "before 7am", "earlier than 6:30".
pub const BEFORE_TIME: &[&[&str]] = &[&["earlier", "than"], &["prior", "to"], &["before"]];

/// Before a clock time: "after 9pm", "later than 20:00".
pub const AFTER_TIME: &[&[&str]] = &[&["later", "than"], &["after"]];

/// Before the first clock time of a window: "between 6am and 8am", "from 6 to 8am".
pub const CLOCK_RANGE_LEADS: &[&str] = &["between", "from"];

/// Between the two clock times of a window.
pub const CLOCK_RANGE_JOINS: &[&str] = &["and", "to", "until", "till"];

/// Verbs that say a clock time is when the activity started.
pub const START_VERBS: &[&str] = &[
    "began", "begin", "begun", "started", "start", "starting", "starts",
];

/// Weekends and weekdays.
pub const WEEKEND_WORDS: &[&[&str]] = &[&["weekends"], &["weekend"]];
/// See [`WEEKEND_WORDS`].
pub const WEEKDAY_WORDS: &[&[&str]] = &[&["weekdays"], &["weekday"], &["during", "the", "week"]];

/// Personal records: "my PRs", "personal best 10k".
pub const RECORD_PHRASES: &[&[&str]] = &[
    &["personal", "records"],
    &["personal", "record"],
    &["personal", "bests"],
    &["personal", "best"],
    &["prs"],
    &["pr"],
    &["pbs"],
    &["pb"],
    &["records"],
    &["record"],
];

/// In a comparison, the words that say which way: "did I run more this year than last".
pub const COMPARE_DIRECTION: &[&[&str]] = &[&["more"], &["less"], &["fewer"]];

/// After a threshold ("runs at least 10 miles long"), words that only restate it.
pub const THRESHOLD_TAILS: &[&str] = &["long", "length", "or", "more", "longer"];

/// Asking to set periods side by side.
pub const COMPARE_WORDS: &[&[&str]] = &[
    &["difference", "between"],
    &["difference"],
    &["vs"],
    &["versus"],
    &["compare"],
    &["compared"],
    &["comparison"],
    &["against"],
];

/// In a comparison, the activity before the one named: "my last run vs the one before".
pub const PREVIOUS_ONE: &[&[&str]] = &[
    &["one", "before", "it"],
    &["one", "before"],
    &["previous", "one"],
    &["previous"],
];

/// The highest and the lowest of one measure, named together: "fastest vs slowest".
pub const EXTREME_PAIRS: &[(&[&str], &[&str])] = &[
    (&["fastest", "quickest"], &["slowest"]),
    (&["longest"], &["shortest"]),
    (&["hilliest"], &["flattest"]),
    (&["highest", "best"], &["lowest", "worst"]),
];

/// Asking to see activities rather than a figure.
pub const LIST_VERBS: &[&str] = &[
    "show", "list", "display", "which", "table", "see", "give", "find", "get", "view", "details",
    "detail", "analyze", "analyse",
];

/// Asking for a share: "what percentage of my rides were commutes".
pub const SHARE_WORDS: &[&[&str]] = &[
    &["percentage"],
    &["percent"],
    &["share"],
    &["proportion"],
    &["fraction"],
];

/// A share question split into the whole and the part at its "were"/"was": ("what
/// percentage of my rides", "commutes").
pub fn split_share(question: &str) -> Option<(String, String)> {
    let lower = question.to_lowercase();
    SHARE_WORDS.iter().find(|w| lower.contains(w[0]))?;
    // "how much of my 2025 distance was cycling, in percent?": the share word may
    // come last.
    let (cut, len) = [" were ", " was "]
        .iter()
        .filter_map(|w| lower.find(w).map(|i| (i, w.len())))
        .min()?;
    Some((lower[..cut].to_string(), lower[cut + len..].to_string()))
}

/// Words that ask for the usual totals ("my running stats this year"): the distance,
/// with the count alongside.
pub const STATS_WORDS: &[&[&str]] = &[
    &["stats"],
    &["statistics"],
    &["totals"],
    &["summary"],
    &["overview"],
    &["summarize"],
    &["summarise"],
    &["recap"],
    &["performance"],
    &["analysis"],
    &["analyze"],
    &["analyse"],
    &["volume"],
    &["numbers"],
];

/// Vague questions about how training is going, answered with this week against the
/// four weeks before.
pub const SUMMARY_PHRASES: &[&[&str]] = &[
    &["how", "am", "i", "doing", "lately"],
    &["how", "am", "i", "doing", "recently"],
    &["how", "is", "my", "training"],
    &["hows", "my", "training"],
    &["how", "am", "i", "doing"],
    &["good", "training", "week"],
    &["a", "good", "week"],
    &["am", "i", "overdoing", "it"],
    &["overdoing", "it"],
    &["overtraining"],
    &["am", "i", "improving"],
    &["training", "enough"],
    &["training", "more", "or", "less"],
    &["my", "recent", "training"],
    &["my", "week"],
    &["training", "going"],
    &["training", "looking"],
];

/// "Training" naming the activities themselves ("my recent training activities"),
/// not how training is going: taken before the summary phrases.
pub const TRAINING_NOUNS: &[&[&str]] = &[
    &["training", "activities"],
    &["training", "activity"],
    &["training", "sessions"],
    &["training", "session"],
    &["training", "workouts"],
];

/// Before a distance goal: "how close am I to 100 km", "how far am I from 2000 km".
pub const GOAL_LEADS: &[&[&str]] = &[
    &["close", "am", "i", "to"],
    &["far", "am", "i", "from"],
    &["far", "away", "am", "i", "from"],
    &["close", "to"],
    &["far", "from"],
    &["away", "from"],
    &["need", "for"],
    &["need", "to", "reach"],
    &["need", "to", "hit"],
    &["goal", "of"],
    &["target", "of"],
    &["reach"],
    &["hit"],
];

/// Asking how something changed over time: a line chart with its direction.
pub const TREND_WORDS: &[&[&str]] = &[
    &["getting", "faster"],
    &["getting", "slower"],
    &["getting", "better"],
    &["trending"],
    &["trends"],
    &["developed"],
    &["developing"],
    &["develop"],
    &["progressed"],
    &["progress"],
    &["improving"],
    &["improved"],
    &["improve"],
    &["changed"],
    &["evolved"],
];

/// What usually happens: with "when", the most common weekday ("when do I usually
/// ride"); with a measure, its average ("how far do I usually run").
pub const USUAL_WORDS: &[&[&str]] = &[
    &["typically"],
    &["usually"],
    &["normally"],
    &["generally"],
    &["mostly"],
    &["tend", "to"],
];

/// Days without activity ("when was my last rest day", "days off this month").
pub const REST_DAY_PHRASES: &[&[&str]] = &[
    &["rest", "days"],
    &["rest", "day"],
    &["days", "off"],
    &["day", "off"],
    &["off", "days"],
    &["recovery", "days"],
    &["recovery", "day"],
];

/// Asking how regularly one trains: activities per week, charted, with the weeks that
/// had any counted ("how consistent have I been with running", "am I regular").
pub const CONSISTENCY_WORDS: &[&[&str]] = &[
    &["consistent"],
    &["consistently"],
    &["consistency"],
    &["regular"],
    &["regularly"],
    &["regularity"],
];

/// A series per weekday, sport, week, month or year; the first group matched wins.
/// Nouns that name a split ("a breakdown of my runs by month", "split by sport"): they
/// add nothing to a grouping the question names, and without one they mean by sport
/// ("a breakdown of my activities").
pub const GROUP_NOUNS: &[&[&str]] = &[
    &["breakdown"],
    &["broken", "down"],
    &["break", "down"],
    &["grouped"],
];

/// "Split" says the same once a grouping is read ("runs split by month"); alone it
/// may mean an activity's own splits, which the engine does not have.
pub const SPLIT_WORDS: &[&[&str]] = &[&["split"], &["splitted"]];

pub const GROUP_PHRASES: &[(GroupBy, &[&[&str]])] = &[
    (
        GroupBy::Weekday,
        &[
            &["day", "of", "the", "week"],
            &["days", "of", "the", "week"],
            &["day", "of", "week"],
            &["by", "weekday"],
            &["per", "weekday"],
            &["each", "weekday"],
            &["which", "weekday"],
            &["what", "weekday"],
            &["active", "weekday"],
            &["favourite", "day"],
            &["favorite", "day"],
            &["favourite", "weekday"],
            &["favorite", "weekday"],
            &["which", "day"],
            &["what", "day"],
        ],
    ),
    (
        GroupBy::Gear,
        &[
            &["each", "pair", "of", "shoes"],
            &["per", "pair", "of", "shoes"],
            &["gear", "breakdown"],
            &["per", "gear"],
            &["by", "gear"],
            &["each", "gear"],
            &["per", "bike"],
            &["by", "bike"],
            &["each", "bike"],
            &["per", "shoe"],
            &["per", "shoes"],
            &["by", "shoes"],
            &["which", "shoes"],
            &["which", "bike"],
        ],
    ),
    (
        GroupBy::Sport,
        &[
            &["most", "popular"],
            &["types", "of", "activities"],
            &["types", "of", "activity"],
            &["kinds", "of", "activities"],
            &["activity", "types"],
            &["sport", "types"],
            &["what", "sports"],
            &["which", "sports"],
            &["by", "sport", "type"],
            &["by", "activity", "type"],
            &["per", "activity", "type"],
            &["by", "sport"],
            &["per", "sport"],
            &["each", "sport"],
            &["by", "type"],
            &["which", "sport"],
        ],
    ),
    (
        GroupBy::Week,
        &[
            &["biggest", "week"],
            &["best", "week"],
            &["busiest", "week"],
            &["which", "week"],
            &["what", "week"],
            &["per", "week"],
            &["each", "week"],
            &["by", "week"],
            &["every", "week"],
            &["a", "week"],
            &["weekly"],
            &["week", "by", "week"],
        ],
    ),
    (
        GroupBy::Month,
        &[
            &["biggest", "month"],
            &["best", "month"],
            &["busiest", "month"],
            &["which", "month"],
            &["what", "month"],
            &["per", "month"],
            &["each", "month"],
            &["by", "month"],
            &["every", "month"],
            &["a", "month"],
            &["monthly"],
            &["month", "by", "month"],
        ],
    ),
    (
        GroupBy::Year,
        &[
            &["biggest", "year"],
            &["best", "year"],
            &["busiest", "year"],
            &["which", "year"],
            &["what", "year"],
            &["per", "year"],
            &["each", "year"],
            &["by", "year"],
            &["every", "year"],
            &["a", "year"],
            &["yearly"],
            &["annual"],
            &["annually"],
            &["year", "by", "year"],
            &["year", "over", "year"],
            &["over", "the", "years"],
        ],
    ),
];

/// A line chart.
pub const LINE_CHART_PHRASES: &[&[&str]] =
    &[&["line"], &["trend"], &["over", "time"], &["progression"]];

/// A chart of any kind (a bar chart unless a line was asked for).
pub const CHART_WORDS: &[&[&str]] = &[
    &["chart"],
    &["graph"],
    &["plot"],
    &["visualise"],
    &["visualize"],
    &["bar"],
    &["bars"],
];

/// Before a number and a unit: a lower bound ("over 15 km").
pub const AT_LEAST: &[&[&str]] = &[
    &["more", "than"],
    &["longer", "than"],
    &["at", "least"],
    &["greater", "than"],
    &["farther", "than"],
    &["further", "than"],
    &["over"],
    &["above"],
    &["beyond"],
    &["exceeding"],
    &["min"],
];

/// Before a number and a unit: an upper bound ("under 30 min").
pub const AT_MOST: &[&[&str]] = &[
    &["less", "than"],
    &["shorter", "than"],
    &["at", "most"],
    &["fewer", "than"],
    &["up", "to"],
    &["under"],
    &["below"],
    &["max"],
];

/// After a threshold's unit, these make it a climb: "over 1000 m of climbing".
pub const CLIMB_WORDS: &[&str] = &[
    "climbing",
    "climb",
    "elevation",
    "ascent",
    "vertical",
    "gain",
];

/// The units a climb threshold may be given in.
pub const CLIMB_UNITS: &[&str] = &["m", "meters", "metres", "meter", "metre", "ft", "feet"];

/// Half marathons.
pub const HALF_MARATHON_PHRASES: &[&[&str]] = &[
    &["half", "marathons"],
    &["half", "marathon"],
    &["halves"],
    &["half"],
];

/// Marathons.
pub const MARATHON_PHRASES: &[&[&str]] = &[&["marathons"], &["marathon"]];

/// Kilometres, in "a 5 km race".
pub const KM_WORDS: &[&str] = &["km", "kilometre", "kilometer"];

/// "race" after a race distance, used along with it.
pub const RACE_NOUNS: &[&str] = &["races", "race"];

/// Activities marked as races on Strava ("list my races", "how many times have I
/// raced"); after a race distance ("my 5k races") the distance reads them instead.
pub const MARKED_RACE_WORDS: &[&[&str]] = &[&["races"], &["race"], &["raced"], &["racing"]];

/// Words after which an activity name follows: "runs named Morning Loop".
pub const NAME_LEADS: &[&str] = &["named", "called", "titled"];

/// Words that end a name read after [`NAME_LEADS`].
pub const NAME_STOP_WORDS: &[&str] = &[
    "this", "last", "in", "on", "since", "during", "from", "between", "and", "with", "before",
    "after", "for", "as", "by", "per", "over", "under",
];

/// parkrun, looked for by name.
pub const PARKRUN_WORDS: &[&str] = &["parkrun", "parkruns"];

/// Commutes.
pub const COMMUTE_PHRASES: &[&[&str]] = &[
    &["commutes"],
    &["commute"],
    &["commuting"],
    &["commuted"],
    &["to", "work"],
];

/// On a trainer.
pub const INDOOR_WORDS: &[&[&str]] = &[&["indoor"], &["indoors"], &["trainer"], &["turbo"]];

/// Not on a trainer.
pub const OUTDOOR_WORDS: &[&[&str]] = &[&["outdoor"], &["outdoors"], &["outside"]];

/// Parts of the day.
pub const DAY_PARTS: &[(DayPart, &[&str])] = &[
    (DayPart::Morning, &["morning", "mornings"]),
    (DayPart::Afternoon, &["afternoon", "afternoons"]),
    (DayPart::Evening, &["evening", "evenings"]),
    (DayPart::Night, &["night", "nights", "nighttime"]),
];

/// What is measured; the first metric with a phrase in the question wins.
pub const METRIC_PHRASES: &[(Metric, &[&[&str]])] = &[
    (
        Metric::MaxHeartRate,
        &[
            &["max", "heart", "rate"],
            &["maximum", "heart", "rate"],
            &["peak", "heart", "rate"],
            &["max", "hr"],
        ],
    ),
    (
        Metric::HeartRate,
        &[
            &["heart", "rate"],
            &["heartrate"],
            &["hr"],
            &["bpm"],
            &["pulse"],
        ],
    ),
    (Metric::ElapsedTime, &[&["elapsed", "time"], &["elapsed"]]),
    (
        Metric::MovingTime,
        &[
            &["moving", "time"],
            &["how", "long"],
            &["time"],
            &["duration"],
            &["hours"],
            &["minutes"],
        ],
    ),
    (
        Metric::Distance,
        &[
            &["distance"],
            &["far"],
            &["farthest"],
            &["furthest"],
            &["mileage"],
            &["length"],
            &["covered"],
        ],
    ),
    (
        Metric::Elevation,
        &[
            &["elevation", "gain"],
            &["elevation"],
            &["climbed"],
            &["climbing"],
            &["climb"],
            &["climbs"],
            &["ascent"],
            &["vertical"],
            &["vert"],
            &["hilliest"],
            &["flattest"],
            &["gain"],
        ],
    ),
    (Metric::Pace, &[&["pace"], &["paces"]]),
    (
        Metric::Speed,
        &[
            &["speed"],
            &["faster"],
            &["fastest"],
            &["slowest"],
            &["quickest"],
            &["fast"],
        ],
    ),
    (Metric::Cadence, &[&["cadence"], &["spm"], &["rpm"]]),
    (Metric::Power, &[&["power"], &["watts"], &["wattage"]]),
    (Metric::Kudos, &[&["kudos"], &["likes"]]),
    (
        Metric::Calories,
        &[
            &["calories"],
            &["calorie"],
            &["kcal"],
            &["burned"],
            &["burnt"],
        ],
    ),
];

/// Superlatives that mean the highest value.
pub const MAX_SUPERLATIVES: &[&str] = &["farthest", "furthest", "hilliest", "fastest", "quickest"];

/// Superlatives that mean the lowest value.
pub const MIN_SUPERLATIVES: &[&str] = &["slowest", "flattest"];

/// What a single word says about how values combine or which activities come first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AggWord {
    /// "total", "altogether".
    Total,
    /// "average", "typically".
    Average,
    /// "best", "quickest": the fastest.
    Best,
    /// "most": the top group, or the maximum.
    Most,
    /// "longest", "biggest": the maximum of a measure still to be named.
    Longest,
    /// "shortest", "smallest": the minimum of a measure still to be named.
    Shortest,
    /// "highest", "peak".
    Highest,
    /// "lowest", "least".
    Lowest,
    /// "first", "earliest": oldest first.
    First,
    /// "recent": a few, newest first.
    Recent,
    /// "last", "latest": newest first.
    Last,
}

const AGGREGATION_WORDS: &[(&[&str], AggWord)] = &[
    (
        &[
            "total",
            "sum",
            "altogether",
            "overall",
            "combined",
            "cumulative",
        ],
        AggWord::Total,
    ),
    (
        &[
            "average",
            "avg",
            "mean",
            "typical",
            "typically",
            "usually",
            "normally",
            "generally",
        ],
        AggWord::Average,
    ),
    (&["best", "quickest"], AggWord::Best),
    (&["most"], AggWord::Most),
    (&["longest", "biggest", "largest"], AggWord::Longest),
    (&["shortest", "smallest"], AggWord::Shortest),
    (
        &["highest", "max", "maximum", "top", "peak"],
        AggWord::Highest,
    ),
    (&["lowest", "min", "minimum", "least"], AggWord::Lowest),
    (&["first", "earliest"], AggWord::First),
    (&["recent"], AggWord::Recent),
    (&["last", "latest", "newest"], AggWord::Last),
];

/// The aggregation or order a single word names, if any.
pub fn aggregation_word(w: &str) -> Option<AggWord> {
    AGGREGATION_WORDS
        .iter()
        .find(|(words, _)| words.contains(&w))
        .map(|(_, word)| *word)
}

/// After "most", these make it an order: "my most recent run".
pub const RECENT_AFTER_MOST: &[&str] = &["recent", "recently"];

/// Unit words named outside a threshold, with the units and the measure they imply:
/// "in miles" is set by [`distance_unit`]; "mph" also says speed.
pub const UNIT_WORDS: &[(&str, Units, Option<Metric>)] = &[
    ("imperial", Units::Imperial, None),
    ("metric", Units::Metric, None),
    ("mph", Units::Imperial, Some(Metric::Speed)),
    ("kmh", Units::Metric, Some(Metric::Speed)),
    ("kph", Units::Metric, Some(Metric::Speed)),
    ("ft", Units::Imperial, Some(Metric::Elevation)),
    ("feet", Units::Imperial, Some(Metric::Elevation)),
    ("foot", Units::Imperial, Some(Metric::Elevation)),
    ("meters", Units::Metric, None),
    ("metres", Units::Metric, None),
    ("meter", Units::Metric, None),
    ("metre", Units::Metric, None),
    ("yards", Units::Imperial, Some(Metric::Distance)),
    ("yd", Units::Imperial, Some(Metric::Distance)),
];

/// Asking for a count.
pub const COUNT_PHRASES: &[&[&str]] = &[
    &["how", "many"],
    &["number", "of"],
    &["how", "often"],
    &["count"],
];

/// Before a small whole number, these make it how many to show ("top 5").
pub const BEFORE_LIMIT: &[&str] = &["top", "first", "last", "latest", "recent", "newest", "best"];

/// Before a small whole number, these make it which activities count ("last 8").
pub const SCOPE_WORDS: &[&str] = &["first", "last", "latest", "recent", "newest"];

/// After a small whole number, these make it how many to show ("3 fastest").
pub const AFTER_LIMIT: &[&str] = &[
    "longest", "shortest", "fastest", "slowest", "quickest", "hilliest", "flattest", "farthest",
    "furthest", "biggest", "largest", "smallest", "highest", "lowest", "most", "latest", "recent",
    "newest", "first", "last", "best",
];

/// After "per", these make an average: "distance per run".
pub const PER_ACTIVITY_NOUNS: &[&str] = &["run", "ride", "swim", "walk", "hike", "activity"];

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> Vec<String> {
        Tokens::new(s).words
    }

    #[test]
    fn splits_words() {
        assert_eq!(words("Runs over 15km?"), ["runs", "over", "15", "km"]);
        assert_eq!(words("my 5K"), ["my", "5", "k"]);
        assert_eq!(words("on 2024-03-03!"), ["on", "2024-03-03"]);
        assert_eq!(words("21.1 km, 1,500 m"), ["21.1", "km", "1500", "m"]);
        assert_eq!(words("March 3rd"), ["march", "3"]);
        assert_eq!(words("New Year's Day"), ["new", "year", "day"]);
        assert_eq!(words("last week's rides"), ["last", "week", "rides"]);
        assert_eq!(words("'; drop table x; --"), ["drop", "table", "x"]);
        let t = Tokens::new("runs named \"Central Park\" please");
        assert_eq!(t.quoted, ["Central Park"]);
    }

    #[test]
    fn finds_sports() {
        let mut t = Tokens::new("my trail runs");
        assert_eq!(take_sport(&mut t).unwrap().plural, "trail runs");
        let mut t = Tokens::new("badminton this year");
        let s = take_sport(&mut t).unwrap();
        assert_eq!(s.types, vec![SportType::new("Badminton")]);
        let mut t = Tokens::new("all my workouts");
        assert!(take_sport(&mut t).is_none());
        assert_eq!(
            unknown_sport(&Tokens::new("croquet games")),
            Some("croquet")
        );
    }
}
