//! The languages Strava writes `activities.csv` in: column names, month names and
//! number format, kept as data. Sport names are in `domain::sport`.
//!
//! Strava translates the header, the month names of "Activity Date", the decimal
//! separator of the display columns (the first "Distance" is "2,81" in German) and
//! the "Activity Type" names into the account's language. The detailed columns
//! (the second "Distance", "Moving Time", ...) stay plain numbers with a dot.
//!
//! Each header table maps a translated name to the English name the reader works
//! with. Where a table says "seen", the name was read in a public repository's copy
//! of a real export or of an export fixture; see `tests/data/export-languages.txt`.
//! Month tables are the common abbreviations and full names of each language.
//!
//! A header in a language without a table (or a new column name) is still read when
//! its first 13 columns have Strava's fixed layout: the order of the columns is the
//! same in every language (the German and English headers of one export version
//! line up column by column), so those columns are taken by position.

use chrono::{NaiveDate, NaiveDateTime};

/// One export language.
#[derive(Debug)]
pub struct Language {
    /// ISO 639-1 code.
    pub code: &'static str,
    /// Translated column name → English column name.
    pub headers: &'static [(&'static str, &'static str)],
    /// Month names, lower case, without a trailing dot: index 0 is January.
    pub months: [&'static [&'static str]; 12],
    /// Whether the display columns write "2,81" for 2.81.
    pub decimal_comma: bool,
}

impl Language {
    /// The English name of a header cell, when this language translates it.
    pub fn english(&self, name: &str) -> Option<&'static str> {
        self.headers
            .iter()
            .find(|(shown, _)| shown.eq_ignore_ascii_case(name) || eq_folded(shown, name))
            .map(|(_, english)| *english)
    }

    /// The month (1–12) a word names in this language.
    pub fn month(&self, word: &str) -> Option<u32> {
        let word = word.trim_end_matches('.').to_lowercase();
        (1..=12u32).find(|m| self.months[*m as usize - 1].contains(&word.as_str()))
    }
}

fn eq_folded(a: &str, b: &str) -> bool {
    a.to_lowercase() == b.to_lowercase()
}

/// The columns of Strava's export in their fixed order, as the English header of a
/// real export names them (the first 13 are the same in every export version).
pub const LAYOUT: [&str; 13] = [
    "Activity ID",
    "Activity Date",
    "Activity Name",
    "Activity Type",
    "Activity Description",
    "Elapsed Time",
    "Distance",
    "Max Heart Rate",
    "Relative Effort",
    "Commute",
    "Activity Private Note",
    "Activity Gear",
    "Filename",
];

pub const ENGLISH: Language = Language {
    code: "en",
    headers: &[],
    months: [
        &["jan", "january"],
        &["feb", "february"],
        &["mar", "march"],
        &["apr", "april"],
        &["may"],
        &["jun", "june"],
        &["jul", "july"],
        &["aug", "august"],
        &["sep", "sept", "september"],
        &["oct", "october"],
        &["nov", "november"],
        &["dec", "december"],
    ],
    decimal_comma: false,
};

/// Every language with a table; English first.
pub const LANGUAGES: &[&Language] = &[
    &ENGLISH,
    &GERMAN,
    &DUTCH,
    &FRENCH,
    &SPANISH,
    &ITALIAN,
    &PORTUGUESE,
    &RUSSIAN,
    &JAPANESE,
    &CHINESE,
];

/// German: every name seen in one real 92-column header, which lines up column by
/// column with the English header of the same version.
pub const GERMAN: Language = Language {
    code: "de",
    headers: &[
        ("Aktivitäts-ID", "Activity ID"),
        ("Aktivitätsdatum", "Activity Date"),
        ("Name der Aktivität", "Activity Name"),
        ("Aktivitätsart", "Activity Type"),
        ("Aktivitätsbeschreibung", "Activity Description"),
        ("Verstrichene Zeit", "Elapsed Time"),
        ("Distanz", "Distance"),
        ("Max. Herzfrequenz", "Max Heart Rate"),
        ("Relative Leistung", "Relative Effort"),
        ("Pendeln", "Commute"),
        (
            "Hinweis zur Privatsphäre für Aktivitäten",
            "Activity Private Note",
        ),
        ("Aktivitätsausrüstung", "Activity Gear"),
        ("Dateiname", "Filename"),
        ("Sportlergewicht", "Athlete Weight"),
        ("Fahrradgewicht", "Bike Weight"),
        ("Bewegungszeit", "Moving Time"),
        ("Höchstgeschw.", "Max Speed"),
        ("Durchschnittliche Geschwindigkeit", "Average Speed"),
        ("Höhenzunahme", "Elevation Gain"),
        ("Höhenunterschied", "Elevation Loss"),
        ("Min. Höhe", "Elevation Low"),
        ("Max. Höhe", "Elevation High"),
        ("Max. Steigung", "Max Grade"),
        ("Durchschnittliche Steigung", "Average Grade"),
        (
            "Durchschnittliche positive Steigung",
            "Average Positive Grade",
        ),
        (
            "Durchschnittliche negative Steigung",
            "Average Negative Grade",
        ),
        ("Max. Tritt-/Schrittfrequenz", "Max Cadence"),
        ("Durchschnittliche Trittfrequenz", "Average Cadence"),
        ("Durchschnittliche Herzfrequenz", "Average Heart Rate"),
        ("Max. Watt", "Max Watts"),
        ("Durchschnittliche Watt", "Average Watts"),
        ("Kalorien", "Calories"),
        ("Max. Temperatur", "Max Temperature"),
        ("Durchschnittliche Temperatur", "Average Temperature"),
        ("Gesamtarbeit", "Total Work"),
        ("Anzahl Läufe", "Number of Runs"),
        ("Bergaufzeit", "Uphill Time"),
        ("Bergabzeit", "Downhill Time"),
        ("Andere Zeit", "Other Time"),
        ("Gefühlte Anstrengung", "Perceived Exertion"),
        ("Art", "Type"),
        ("Startzeit", "Start Time"),
        (
            "Gewichtete durchschnittliche Leistung",
            "Weighted Average Power",
        ),
        ("Leistungszahl", "Power Count"),
        (
            "Gefühlte Anstrengung verwenden",
            "Prefer Perceived Exertion",
        ),
        ("Gefühlte relative Leistung", "Perceived Relative Effort"),
        ("Insgesamt gestemmtes Gewicht", "Total Weight Lifted"),
        ("Von Upload", "From Upload"),
        ("Auf Steigung angepasste Distanz", "Grade Adjusted Distance"),
        ("Markiert", "Flagged"),
        ("Aktivitätsanzahl", "Activity Count"),
        ("Schritte insgesamt", "Total Steps"),
        ("Pool-Länge", "Pool Length"),
        ("Trainingsbelastung", "Training Load"),
        ("Intensität", "Intensity"),
        ("Medien", "Media"),
    ],
    months: [
        &["jan", "januar", "jän", "jänner"],
        &["feb", "februar"],
        &["mär", "märz", "mrz"],
        &["apr", "april"],
        &["mai"],
        &["jun", "juni"],
        &["jul", "juli"],
        &["aug", "august"],
        &["sep", "sept", "september"],
        &["okt", "oktober"],
        &["nov", "november"],
        &["dez", "dezember"],
    ],
    decimal_comma: true,
};

/// Dutch: names seen in public code and fixtures that read Dutch exports.
pub const DUTCH: Language = Language {
    code: "nl",
    headers: &[
        ("Activiteits-ID", "Activity ID"),
        ("Datum van activiteit", "Activity Date"),
        ("Naam activiteit", "Activity Name"),
        ("Activiteitstype", "Activity Type"),
        ("Beschrijving van activiteit", "Activity Description"),
        ("Verstreken tijd", "Elapsed Time"),
        ("Afstand", "Distance"),
        ("Max. hartslag", "Max Heart Rate"),
        ("Uitrusting voor activiteit", "Activity Gear"),
        ("Bestandsnaam", "Filename"),
        ("Beweegtijd", "Moving Time"),
        ("Max. snelheid", "Max Speed"),
        ("Gemiddelde snelheid", "Average Speed"),
        ("Totale stijging", "Elevation Gain"),
        ("Totale daling", "Elevation Loss"),
        ("Gemiddelde cadans", "Average Cadence"),
        ("Max. cadans", "Max Cadence"),
        ("Gemiddelde hartslag", "Average Heart Rate"),
        ("Calorieën", "Calories"),
        ("Ervaren inspanning", "Perceived Exertion"),
        ("Lengte van zwembad", "Pool Length"),
        ("Trainingsbelasting", "Training Load"),
        ("Intensiteit", "Intensity"),
    ],
    months: [
        &["jan", "januari"],
        &["feb", "februari"],
        &["mrt", "maart"],
        &["apr", "april"],
        &["mei"],
        &["jun", "juni"],
        &["jul", "juli"],
        &["aug", "augustus"],
        &["sep", "sept", "september"],
        &["okt", "oktober"],
        &["nov", "november"],
        &["dec", "december"],
    ],
    decimal_comma: true,
};

/// French: the first 21 columns seen in one export fixture, which line up with the
/// English layout, plus "Fréquence cardiaque moyenne" seen in code reading exports.
pub const FRENCH: Language = Language {
    code: "fr",
    headers: &[
        ("ID de l'activité", "Activity ID"),
        ("Date de l'activité", "Activity Date"),
        ("Nom de l'activité", "Activity Name"),
        ("Type d'activité", "Activity Type"),
        ("Description de l'activité", "Activity Description"),
        ("Temps écoulé", "Elapsed Time"),
        ("Distance", "Distance"),
        ("Fréquence cardiaque max.", "Max Heart Rate"),
        ("Effort relatif", "Relative Effort"),
        ("Déplacement-transport", "Commute"),
        ("Note privée sur les activités", "Activity Private Note"),
        ("Matériel utilisé pour l'activité", "Activity Gear"),
        ("Nom du fichier", "Filename"),
        ("Poids de l'athlète", "Athlete Weight"),
        ("Poids du vélo", "Bike Weight"),
        ("Durée de déplacement", "Moving Time"),
        ("Vitesse max.", "Max Speed"),
        ("Vitesse moyenne", "Average Speed"),
        ("Dénivelé positif", "Elevation Gain"),
        ("Fréquence cardiaque moyenne", "Average Heart Rate"),
    ],
    months: [
        &["janv", "janvier"],
        &["févr", "février", "fevr"],
        &["mars"],
        &["avr", "avril"],
        &["mai"],
        &["juin"],
        &["juil", "juillet"],
        &["août", "aout"],
        &["sept", "septembre"],
        &["oct", "octobre"],
        &["nov", "novembre"],
        &["déc", "décembre", "dec"],
    ],
    decimal_comma: true,
};

/// Spanish: the names seen in two fixtures.
pub const SPANISH: Language = Language {
    code: "es",
    headers: &[
        ("ID de actividad", "Activity ID"),
        ("Fecha de la actividad", "Activity Date"),
        ("Nombre de la actividad", "Activity Name"),
        ("Tipo de actividad", "Activity Type"),
        ("Descripción de la actividad", "Activity Description"),
        ("Tiempo transcurrido", "Elapsed Time"),
        ("Distancia", "Distance"),
        ("Nota privada de actividad", "Activity Private Note"),
        ("Nombre del archivo", "Filename"),
        ("Tiempo en movimiento", "Moving Time"),
        ("Desnivel positivo", "Elevation Gain"),
        ("Esfuerzo Percibido", "Perceived Exertion"),
    ],
    months: [
        &["ene", "enero"],
        &["feb", "febrero"],
        &["mar", "marzo"],
        &["abr", "abril"],
        &["may", "mayo"],
        &["jun", "junio"],
        &["jul", "julio"],
        &["ago", "agosto"],
        &["sept", "sep", "septiembre", "setiembre"],
        &["oct", "octubre"],
        &["nov", "noviembre"],
        &["dic", "diciembre"],
    ],
    decimal_comma: true,
};

/// Italian: no header seen; columns by position.
pub const ITALIAN: Language = Language {
    code: "it",
    headers: &[],
    months: [
        &["gen", "gennaio"],
        &["feb", "febbraio"],
        &["mar", "marzo"],
        &["apr", "aprile"],
        &["mag", "maggio"],
        &["giu", "giugno"],
        &["lug", "luglio"],
        &["ago", "agosto"],
        &["set", "settembre"],
        &["ott", "ottobre"],
        &["nov", "novembre"],
        &["dic", "dicembre"],
    ],
    decimal_comma: true,
};

/// Portuguese: no header seen; columns by position.
pub const PORTUGUESE: Language = Language {
    code: "pt",
    headers: &[],
    months: [
        &["jan", "janeiro"],
        &["fev", "fevereiro"],
        &["mar", "março"],
        &["abr", "abril"],
        &["mai", "maio"],
        &["jun", "junho"],
        &["jul", "julho"],
        &["ago", "agosto"],
        &["set", "setembro"],
        &["out", "outubro"],
        &["nov", "novembro"],
        &["dez", "dezembro"],
    ],
    decimal_comma: true,
};

/// Russian: no header seen; columns by position. Dates name months in the genitive.
pub const RUSSIAN: Language = Language {
    code: "ru",
    headers: &[],
    months: [
        &["янв", "января", "январь"],
        &["февр", "фев", "февраля", "февраль"],
        &["мар", "марта", "март"],
        &["апр", "апреля", "апрель"],
        &["мая", "май"],
        &["июн", "июня", "июнь"],
        &["июл", "июля", "июль"],
        &["авг", "августа", "август"],
        &["сент", "сен", "сентября", "сентябрь"],
        &["окт", "октября", "октябрь"],
        &["нояб", "ноя", "ноября", "ноябрь"],
        &["дек", "декабря", "декабрь"],
    ],
    decimal_comma: true,
};

/// Japanese: the names of one export fixture (a project's test of "localized Strava
/// CSV headers") and of analysis code written against a real export ("経過時間").
/// Dates are numeric ("2026/06/29 20:14:15").
pub const JAPANESE: Language = Language {
    code: "ja",
    headers: &[
        ("アクティビティID", "Activity ID"),
        ("アクティビティ実行日", "Activity Date"),
        ("アクティビティ名", "Activity Name"),
        ("アクティビティタイプ", "Activity Type"),
        ("経過時間", "Elapsed Time"),
        ("距離", "Distance"),
        ("ファイル名", "Filename"),
        ("移動時間", "Moving Time"),
        ("獲得標高", "Elevation Gain"),
    ],
    months: [&[], &[], &[], &[], &[], &[], &[], &[], &[], &[], &[], &[]],
    decimal_comma: false,
};

/// Chinese (simplified): every name seen in one real 103-column header, which lines
/// up column by column with the English header of the same version. Dates are
/// numeric ("2026年8月16日 09:01:41").
pub const CHINESE: Language = Language {
    code: "zh",
    headers: &[
        ("活动 ID", "Activity ID"),
        ("活动日期", "Activity Date"),
        ("活动名称", "Activity Name"),
        ("活动类型", "Activity Type"),
        ("活动描述", "Activity Description"),
        ("全程耗时", "Elapsed Time"),
        ("距离", "Distance"),
        ("最大心率", "Max Heart Rate"),
        ("相对负荷度", "Relative Effort"),
        ("通勤", "Commute"),
        ("活动隐私说明", "Activity Private Note"),
        ("活动装备", "Activity Gear"),
        ("文件名", "Filename"),
        ("运动达人体重", "Athlete Weight"),
        ("自行车重量", "Bike Weight"),
        ("移动时间", "Moving Time"),
        ("最大速度", "Max Speed"),
        ("平均速度", "Average Speed"),
        ("海拔爬升", "Elevation Gain"),
        ("降低海拔", "Elevation Loss"),
        ("低海拔", "Elevation Low"),
        ("高海拔", "Elevation High"),
        ("最大坡度", "Max Grade"),
        ("平均坡度", "Average Grade"),
        ("平均坡度（正值）", "Average Positive Grade"),
        ("平均坡度（负值）", "Average Negative Grade"),
        ("最大踏频", "Max Cadence"),
        ("平均踏频", "Average Cadence"),
        ("平均心率", "Average Heart Rate"),
        ("最大瓦特数", "Max Watts"),
        ("平均瓦特数", "Average Watts"),
        ("卡路里", "Calories"),
        ("最高温度", "Max Temperature"),
        ("平均温度", "Average Temperature"),
        ("总功", "Total Work"),
        ("跑步次数", "Number of Runs"),
        ("上坡时间", "Uphill Time"),
        ("下坡时间", "Downhill Time"),
        ("其它时间", "Other Time"),
        ("感知负荷度", "Perceived Exertion"),
        ("类型", "Type"),
        ("开始时间", "Start Time"),
        ("加权平均功率", "Weighted Average Power"),
        ("功率计数", "Power Count"),
        ("使用感知负荷度", "Prefer Perceived Exertion"),
        ("感知的相对负荷度", "Perceived Relative Effort"),
        ("举起的总重量", "Total Weight Lifted"),
        ("来自上传的活动", "From Upload"),
        ("坡度调整距离", "Grade Adjusted Distance"),
        ("天气观测时间", "Weather Observation Time"),
        ("天气状况", "Weather Condition"),
        ("气温", "Weather Temperature"),
        ("表观温度", "Apparent Temperature"),
        ("露点", "Dewpoint"),
        ("潮湿", "Humidity"),
        ("气压", "Weather Pressure"),
        ("风速", "Wind Speed"),
        ("阵风", "Wind Gust"),
        ("风向", "Wind Bearing"),
        ("降水强度", "Precipitation Intensity"),
        ("日出时间", "Sunrise Time"),
        ("日落时间", "Sunset Time"),
        ("月相", "Moon Phase"),
        ("自行车", "Bike"),
        ("装备", "Gear"),
        ("降水概率", "Precipitation Probability"),
        ("降水类型", "Precipitation Type"),
        ("云盖", "Cloud Cover"),
        ("天气能见度", "Weather Visibility"),
        ("紫外线指数", "UV Index"),
        ("臭氧预报数据", "Weather Ozone"),
        ("跳跃次数", "Jump Count"),
        ("总砂砾量", "Total Grit"),
        ("平均流量", "Average Flow"),
        ("已标记", "Flagged"),
        ("平均经过速度", "Average Elapsed Speed"),
        ("砾石路骑行距离", "Dirt Distance"),
        ("最近探索的距离", "Newly Explored Distance"),
        ("最近探索的泥土距离", "Newly Explored Dirt Distance"),
        ("活动数量", "Activity Count"),
        ("总步数", "Total Steps"),
        ("碳减排量", "Carbon Saved"),
        ("池长度", "Pool Length"),
        ("训练负荷", "Training Load"),
        ("强度", "Intensity"),
        ("坡度调整后平均配速", "Average Grade Adjusted Pace"),
        ("计时器时间", "Timer Time"),
        ("总骑行数", "Total Cycles"),
        ("恢复", "Recovery"),
        ("与宠同行", "With Pet"),
        ("竞争", "Competition"),
        ("长跑", "Long Run"),
        ("有意义", "For a Cause"),
        ("带着小孩", "With Kid"),
        ("下坡距离", "Downhill Distance"),
        ("总组数", "Total Sets"),
        ("总次数", "Total Reps"),
        ("媒体", "Media"),
    ],
    months: [&[], &[], &[], &[], &[], &[], &[], &[], &[], &[], &[], &[]],
    decimal_comma: false,
};

/// A header cell as a name: HTML that a missing translation leaves in the export
/// ("<span class=\"translation_missing\" ...>Type</span>") and a byte-order mark
/// removed, spaces trimmed.
pub fn clean_header(cell: &str) -> String {
    let mut out = String::with_capacity(cell.len());
    let mut in_tag = false;
    for c in cell.trim_start_matches('\u{feff}').chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.trim().to_owned()
}

/// How a header is read: its language, and whether the fixed layout names columns
/// its language table does not.
#[derive(Debug)]
pub struct HeaderReading {
    /// The language whose table named "Activity ID"; `None` when only the layout did.
    pub language: Option<&'static Language>,
    /// English names, one per header cell.
    pub names: Vec<String>,
}

/// Names every header cell in English: through the language whose "Activity ID"
/// the header holds, else through Strava's fixed layout when the first 13 columns
/// are there and none is an English name out of place.
pub fn read_header(cells: &[String]) -> HeaderReading {
    let id_of = |lang: &Language| {
        if lang.code == "en" {
            "Activity ID".to_owned()
        } else {
            lang.headers
                .iter()
                .find(|(_, en)| *en == "Activity ID")
                .map_or(String::new(), |(shown, _)| (*shown).to_owned())
        }
    };
    let language = LANGUAGES.iter().copied().find(|lang| {
        let id = id_of(lang);
        !id.is_empty() && cells.iter().any(|c| eq_folded(c, &id))
    });
    let names: Vec<String> = match language {
        Some(lang) => cells
            .iter()
            .map(|c| lang.english(c).map_or_else(|| c.clone(), str::to_owned))
            .collect(),
        None if cells.len() >= LAYOUT.len() => {
            let mut names = cells.to_vec();
            for (name, english) in names.iter_mut().zip(LAYOUT) {
                *name = english.to_owned();
            }
            names
        }
        None => cells.to_vec(),
    };
    HeaderReading { language, names }
}

/// A number as written in a language's export. With a decimal comma, "2,81" and
/// "1.234,5" read as 2.81 and 1234.5 while the detailed columns' "5012.3" keeps its
/// dot; otherwise a comma separates thousands ("1,234.5"). When the language is not
/// known, a comma followed by exactly three digits is a thousands separator.
pub fn parse_number(text: &str, language: Option<&Language>) -> Option<f64> {
    let t: String = text
        .chars()
        .filter(|c| !matches!(c, ' ' | '\u{a0}' | '\u{202f}' | '\''))
        .collect();
    let decimal_comma = match language {
        Some(lang) => lang.decimal_comma,
        None => match t.rsplit_once(',') {
            Some((_, tail)) => tail.len() != 3 || t.contains('.'),
            None => false,
        },
    };
    let plain = if decimal_comma && t.contains(',') {
        t.replace('.', "").replace(',', ".")
    } else {
        t.replace(',', "")
    };
    plain.parse::<f64>().ok().filter(|n| n.is_finite())
}

/// A part of a date as written.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Token {
    Number(u32),
    Month(u32),
    Am,
    Pm,
}

/// Reads "Activity Date" in any layout Strava writes: English month names ("Nov 2,
/// 2023, 7:10:12 AM"), the language's month names ("9 mei 2026, 19:00:00", "14
/// июл. 2020 г., 22:36:55"), day-first numbers ("21.07.2026, 15:09:27") and
/// year-first numbers ("2020/07/14 22:36:55", "2020年7月14日 22:36:55"). Words that
/// are neither months nor AM/PM ("um", "г.", "à") are skipped. The time is UTC.
pub fn parse_date(text: &str, language: Option<&Language>) -> Option<NaiveDateTime> {
    let tokens = tokenize(text, language)?;
    let numbers: Vec<u32> = tokens
        .iter()
        .filter_map(|t| match t {
            Token::Number(n) => Some(*n),
            _ => None,
        })
        .collect();
    let months: Vec<u32> = tokens
        .iter()
        .filter_map(|t| match t {
            Token::Month(m) => Some(*m),
            _ => None,
        })
        .collect();
    let (year, month, day, time) = match months.as_slice() {
        [month] => {
            let (&a, &b) = (numbers.first()?, numbers.get(1)?);
            let (day, year) = if a > 31 { (b, a) } else { (a, b) };
            (year, *month, day, &numbers[2..])
        }
        [] => {
            let (&a, &b, &c) = (numbers.first()?, numbers.get(1)?, numbers.get(2)?);
            let (year, month, day) = if a > 31 { (a, b, c) } else { (c, b, a) };
            (year, month, day, &numbers[3..])
        }
        _ => return None,
    };
    let (mut hour, minute, second) = match time {
        [h, m] => (*h, *m, 0),
        [h, m, s] => (*h, *m, *s),
        _ => return None,
    };
    let am = tokens.contains(&Token::Am);
    let pm = tokens.contains(&Token::Pm);
    if am || pm {
        if am && pm || !(1..=12).contains(&hour) {
            return None;
        }
        hour = match (hour, pm) {
            (12, false) => 0,
            (12, true) => 12,
            (h, true) => h + 12,
            (h, false) => h,
        };
    }
    if year < 1000 {
        return None;
    }
    let date = NaiveDate::from_ymd_opt(i32::try_from(year).ok()?, month, day)?;
    date.and_hms_opt(hour, minute, second)
}

fn tokenize(text: &str, language: Option<&Language>) -> Option<Vec<Token>> {
    let mut tokens = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_ascii_digit() {
            let mut n: u32 = 0;
            while let Some(d) = chars.peek().and_then(|c| c.to_digit(10)) {
                n = n.checked_mul(10)?.checked_add(d)?;
                chars.next();
            }
            tokens.push(Token::Number(n));
        } else if c.is_alphabetic() && !is_cjk_date_mark(c) {
            let mut word = String::new();
            while let Some(&c) = chars.peek() {
                if c.is_alphabetic() && !is_cjk_date_mark(c) || c == '.' && !word.is_empty() {
                    word.push(c);
                    chars.next();
                } else {
                    break;
                }
            }
            if let Some(token) = word_token(&word, language) {
                tokens.push(token);
            }
        } else {
            // Separators, CJK date marks (年 月 日), and 午前/午後 handled by the word.
            chars.next();
        }
    }
    Some(tokens)
}

fn is_cjk_date_mark(c: char) -> bool {
    matches!(c, '年' | '月' | '日' | '时' | '時' | '分' | '秒')
}

fn word_token(word: &str, language: Option<&Language>) -> Option<Token> {
    let bare = word.trim_end_matches('.').to_lowercase();
    match bare.replace('.', "").as_str() {
        "am" | "午前" | "上午" => return Some(Token::Am),
        "pm" | "午後" | "下午" => return Some(Token::Pm),
        _ => {}
    }
    let month = match language {
        Some(lang) => lang.month(&bare).or_else(|| ENGLISH.month(&bare)),
        None => LANGUAGES.iter().find_map(|lang| lang.month(&bare)),
    };
    month.map(Token::Month)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_follow_the_language() {
        assert_eq!(parse_number("2,81", Some(&GERMAN)), Some(2.81));
        assert_eq!(parse_number("1.234,5", Some(&GERMAN)), Some(1234.5));
        assert_eq!(parse_number("5012.3", Some(&GERMAN)), Some(5012.3));
        assert_eq!(parse_number("1 234,5", Some(&FRENCH)), Some(1234.5));
        assert_eq!(parse_number("1,234.5", Some(&ENGLISH)), Some(1234.5));
        assert_eq!(parse_number("1,234", Some(&ENGLISH)), Some(1234.0));
        assert_eq!(parse_number("6,32", None), Some(6.32));
        assert_eq!(parse_number("1,234", None), Some(1234.0));
        assert_eq!(parse_number("abc", Some(&GERMAN)), None);
        assert_eq!(parse_number("NaN", None), None);
    }

    #[test]
    fn html_left_by_a_missing_translation_is_removed() {
        let cell = "<span class=\"translation_missing\" title=\"translation missing: en-US.lib.export.portability_exporter.activities.horton_values.type\">Type</span>";
        assert_eq!(clean_header(cell), "Type");
        assert_eq!(clean_header("\u{feff}Activity ID "), "Activity ID");
    }

    #[test]
    fn every_month_table_names_twelve_distinct_months() {
        for lang in LANGUAGES {
            let mut seen = std::collections::HashSet::new();
            for names in lang.months {
                for name in names {
                    assert!(seen.insert(*name), "{}: {name} twice", lang.code);
                    assert_eq!(*name, name.to_lowercase(), "{}: {name}", lang.code);
                }
            }
        }
    }

    #[test]
    fn an_unknown_language_is_read_by_the_fixed_layout() {
        let cells: Vec<String> = (0..15).map(|i| format!("col{i}")).collect();
        let reading = read_header(&cells);
        assert!(reading.language.is_none());
        assert_eq!(reading.names[0], "Activity ID");
        assert_eq!(reading.names[12], "Filename");
        assert_eq!(reading.names[13], "col13");
        // Too short to be the layout: names are left alone and the reader refuses it.
        let short: Vec<String> = vec!["a".into(), "b".into()];
        assert_eq!(read_header(&short).names, short);
    }
}

#[cfg(test)]
mod date_tests {
    use super::*;

    fn at(text: &str, language: Option<&Language>) -> String {
        parse_date(text, language).map_or_else(|| "none".into(), |d| d.to_string())
    }

    #[test]
    fn dates_in_each_layout() {
        let want = "2020-07-14 22:36:55";
        assert_eq!(at("Jul 14, 2020, 10:36:55 PM", Some(&ENGLISH)), want);
        assert_eq!(at("14 Jul 2020, 22:36:55", Some(&ENGLISH)), want);
        assert_eq!(at("14.07.2020, 22:36:55", Some(&GERMAN)), want);
        assert_eq!(at("14 jul. 2020, 22:36:55", Some(&DUTCH)), want);
        assert_eq!(at("14 juil. 2020, 22:36:55", Some(&FRENCH)), want);
        assert_eq!(at("14 июл. 2020 г., 22:36:55", Some(&RUSSIAN)), want);
        assert_eq!(at("2020/07/14 22:36:55", Some(&JAPANESE)), want);
        assert_eq!(at("2020年7月14日 22:36:55", Some(&CHINESE)), want);
        assert_eq!(at("2020年7月14日 午後10:36:55", Some(&JAPANESE)), want);
        assert_eq!(
            at("9 mei 2026, 19:00:00", Some(&DUTCH)),
            "2026-05-09 19:00:00"
        );
        assert_eq!(
            at("3 mrt 2024, 07:05:00", Some(&DUTCH)),
            "2024-03-03 07:05:00"
        );
        assert_eq!(
            at("1 déc. 2024, 12:00:00", Some(&FRENCH)),
            "2024-12-01 12:00:00"
        );
        assert_eq!(at("Dec 1, 2024, 12:00:00 AM", None), "2024-12-01 00:00:00");
        assert_eq!(at("Dec 1, 2024, 12:30:00 PM", None), "2024-12-01 12:30:00");
    }

    #[test]
    fn what_is_not_a_date_is_refused() {
        for text in [
            "date",
            "x",
            "yesterday",
            "31.02.2024, 10:00:00",
            "Jul 14, 2020",
            "Jul 14, 2020, 13:00:00 PM",
            "Jul Aug 14, 2020, 10:00:00",
            "99999999999 Jul 2020, 10:00",
        ] {
            assert_eq!(at(text, Some(&ENGLISH)), "none", "{text}");
        }
    }
}
