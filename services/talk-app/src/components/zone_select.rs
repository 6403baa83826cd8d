//! The time-zone picker of the settings page and of the home page's upload form:
//! every zone chrono-tz knows, by its IANA name.

use leptos::prelude::*;

/// A `<select>` of zones with `current` chosen. Without a current zone, a first
/// empty choice asks for one; app.js then picks the browser's zone
/// (`data-browser-zone`), so most people never open the list.
#[component]
pub fn ZoneSelect(id: &'static str, current: Option<&'static str>) -> impl IntoView {
    view! {
        <select id=id name="timezone" required data-browser-zone=current.is_none().then_some("")>
            {current.is_none().then(|| view! { <option value="">"Choose your time zone"</option> })}
            {chrono_tz::TZ_VARIANTS.iter().map(|tz| {
                let name = tz.name();
                view! { <option value=name selected={Some(name) == current}>{name}</option> }
            }).collect_view()}
        </select>
    }
}
