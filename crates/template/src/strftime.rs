//! `strftime_now(format)`: transformers' `datetime.now().strftime(format)` (C `strftime`
//! directives as glibc implements them, including the `%-d` no-padding form), on the UTC clock
//! or a fixed time.

use crate::render::Clock;

struct Civil {
    year: i64,
    month: u32,
    day: u32,
    hour: u32,
    minute: u32,
    second: u32,
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const DAYS: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

/// Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    (
        y,
        u32::try_from(m).unwrap_or(1),
        u32::try_from(d).unwrap_or(1),
    )
}

fn now(clock: Clock) -> Civil {
    match clock {
        Clock::Fixed(year, month, day, hour, minute, second) => Civil {
            year,
            month,
            day,
            hour,
            minute,
            second,
        },
        Clock::System => {
            let secs = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(0));
            let (year, month, day) = civil_from_days(secs.div_euclid(86_400));
            let rem = secs.rem_euclid(86_400);
            Civil {
                year,
                month,
                day,
                hour: u32::try_from(rem / 3600).unwrap_or(0),
                minute: u32::try_from(rem % 3600 / 60).unwrap_or(0),
                second: u32::try_from(rem % 60).unwrap_or(0),
            }
        }
    }
}

/// `datetime.now().strftime(format)`.
pub fn strftime_now(format: &str, clock: Clock) -> String {
    format_civil(format, &now(clock))
}

fn format_civil(format: &str, t: &Civil) -> String {
    let days = days_from_civil(t.year, t.month, t.day);
    let weekday = usize::try_from((days + 3).rem_euclid(7)).unwrap_or(0); // 0 = Monday
    let yday = days - days_from_civil(t.year, 1, 1) + 1;
    let month_name = MONTHS
        .get(t.month.saturating_sub(1) as usize)
        .copied()
        .unwrap_or("");
    let day_name = DAYS.get(weekday).copied().unwrap_or("");
    let hour12 = if t.hour % 12 == 0 { 12 } else { t.hour % 12 };
    let mut out = String::new();
    let mut chars = format.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let nopad = chars.peek() == Some(&'-');
        if nopad {
            chars.next();
        }
        let num = |n: i64, width: usize| {
            if nopad {
                n.to_string()
            } else {
                format!("{n:0width$}")
            }
        };
        match chars.next() {
            Some('Y') => out.push_str(&t.year.to_string()),
            Some('y') => out.push_str(&num(t.year.rem_euclid(100), 2)),
            Some('m') => out.push_str(&num(i64::from(t.month), 2)),
            Some('d') => out.push_str(&num(i64::from(t.day), 2)),
            Some('e') => out.push_str(&format!("{:>2}", t.day)),
            Some('H') => out.push_str(&num(i64::from(t.hour), 2)),
            Some('I') => out.push_str(&num(i64::from(hour12), 2)),
            Some('M') => out.push_str(&num(i64::from(t.minute), 2)),
            Some('S') => out.push_str(&num(i64::from(t.second), 2)),
            Some('j') => out.push_str(&num(yday, 3)),
            Some('p') => out.push_str(if t.hour < 12 { "AM" } else { "PM" }),
            Some('B') => out.push_str(month_name),
            Some('b') | Some('h') => out.push_str(month_name.get(..3).unwrap_or("")),
            Some('A') => out.push_str(day_name),
            Some('a') => out.push_str(day_name.get(..3).unwrap_or("")),
            Some('w') => out.push_str(&((weekday + 1) % 7).to_string()),
            Some('u') => out.push_str(&(weekday + 1).to_string()),
            Some('F') => out.push_str(&format!("{}-{:02}-{:02}", t.year, t.month, t.day)),
            Some('T') => out.push_str(&format!("{:02}:{:02}:{:02}", t.hour, t.minute, t.second)),
            Some('D') => out.push_str(&format!(
                "{:02}/{:02}/{:02}",
                t.month,
                t.day,
                t.year.rem_euclid(100)
            )),
            Some('Z') => out.push_str(""),
            Some('z') => out.push_str(""),
            Some('%') => out.push('%'),
            Some(other) => {
                out.push('%');
                if nopad {
                    out.push('-');
                }
                out.push(other);
            }
            None => out.push('%'),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_like_python() {
        let clock = Clock::Fixed(2026, 1, 15, 9, 30, 0);
        assert_eq!(strftime_now("%d %b %Y", clock), "15 Jan 2026");
        assert_eq!(
            strftime_now("%B %-d, %Y %A %I%p %j", clock),
            "January 15, 2026 Thursday 09AM 015"
        );
        assert_eq!(civil_from_days(days_from_civil(2024, 2, 29)), (2024, 2, 29));
    }
}
