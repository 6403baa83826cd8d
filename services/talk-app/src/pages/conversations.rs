//! `POST /chat/{conversation}/rename` and `/delete`: an athlete tidies their list of
//! conversations. Another athlete's conversation is a 404, as when it is shown.

use crate::error::{AppError, see_other};
use crate::session::Session;
use actix_web::{HttpResponse, web};
use db::chats::TITLE_CHARS;
use serde::Deserialize;
use uuid::Uuid;

fn conversation_id(path: &str) -> Result<Uuid, AppError> {
    path.parse().map_err(|_| AppError::NotFound)
}

/// The rename form.
#[derive(Debug, Deserialize)]
pub struct RenameForm {
    title: String,
}

/// `POST /chat/{conversation}/rename`.
pub async fn rename(
    session: Session,
    path: web::Path<String>,
    form: web::Form<RenameForm>,
    pool: web::Data<db::Pool>,
) -> Result<HttpResponse, AppError> {
    let id = conversation_id(&path)?;
    let title = form.title.trim();
    if title.is_empty() || title.chars().count() > TITLE_CHARS {
        return Err(AppError::BadRequest(
            "A conversation's title has 1 to 80 characters.",
        ));
    }
    if crate::question::has_control_characters(title) {
        return Err(AppError::BadRequest(
            "A conversation's title cannot contain control characters.",
        ));
    }
    let mut conn = pool.get().await?;
    if !db::chats::rename(&mut conn, id, session.athlete, title).await? {
        return Err(AppError::NotFound);
    }
    Ok(see_other(&format!("/chat/{id}")))
}

/// `POST /chat/{conversation}/delete`: the conversation and its messages go.
pub async fn delete(
    session: Session,
    path: web::Path<String>,
    pool: web::Data<db::Pool>,
) -> Result<HttpResponse, AppError> {
    let id = conversation_id(&path)?;
    let mut conn = pool.get().await?;
    if !db::chats::delete(&mut conn, id, session.athlete).await? {
        return Err(AppError::NotFound);
    }
    Ok(see_other("/chat"))
}
