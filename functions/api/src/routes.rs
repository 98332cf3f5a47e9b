//! The handlers: parse and validate input into domain types, call the service, shape the output.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;

use photo_domain::{
    AlbumId, AlbumName, BatchAction, ContentType, Error as DomainError, FileName, NewShare,
    NewUpload, Password, PhotoId, PhotoPatch, Sha256, ShareTarget, ShareToken, Title,
};

use crate::AppState;
use crate::dto::*;
use crate::error::{Error, ErrorBody, ErrorCode};
use crate::extract::{Caller, Json, Path, Query};
use crate::page_json::PhotoListing;

type ApiResult<T> = Result<T, Error>;

fn photo_id(s: &str) -> ApiResult<PhotoId> {
    Ok(PhotoId::parse(s)?)
}
fn album_id(s: &str) -> ApiResult<AlbumId> {
    Ok(AlbumId::parse(s)?)
}
/// A token that cannot be one we issued is simply unknown: 404, like any other unknown link.
fn share_token(s: &str) -> ApiResult<ShareToken> {
    ShareToken::parse(s).map_err(|_| Error::Domain(DomainError::NotFound))
}

/// Start an upload: records a PENDING photo and returns a pre-signed POST for its bytes.
#[utoipa::path(post, path = "/photos/uploads", tag = "photos", request_body = UploadRequest,
    security(("bearer" = [])),
    responses(
        (status = 201, body = UploadResponse),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 409, description = "`duplicate` or `quota_exceeded`", body = ErrorBody),
        (status = 413, description = "`too_large`", body = ErrorBody),
        (status = 415, description = "`unsupported_type`", body = ErrorBody),
    ))]
pub async fn start_upload(
    State(s): State<AppState>,
    Caller(user): Caller,
    Json(req): Json<UploadRequest>,
) -> ApiResult<impl IntoResponse> {
    let upload = NewUpload {
        content_type: ContentType::parse(&req.content_type)?,
        file_name: FileName::parse(&req.file_name)?,
        size: req.size,
        sha256: Sha256::parse(&req.sha256)?,
    };
    let (photo, post) = s.service.start_upload(&user, upload).await?;
    let view = photo_domain::PhotoView {
        photo,
        urls: Default::default(),
    };
    Ok((
        StatusCode::CREATED,
        axum::Json(UploadResponse {
            photo: view.into(),
            upload: post.into(),
        }),
    ))
}

/// List my photos, newest first.
#[utoipa::path(get, path = "/photos", tag = "photos", params(ListQuery), security(("bearer" = [])),
    responses((status = 200, body = PhotoPage), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn list_photos(
    State(s): State<AppState>,
    Caller(user): Caller,
    Query(q): Query<ListQuery>,
) -> ApiResult<PhotoListing> {
    Ok(s.service
        .list_photos(&user, q.cursor.as_deref(), q.limit())
        .await
        .map(PhotoListing)?)
}

/// My photos by date taken, newest first: when the shutter fired on the camera's clock, else when
/// the upload started (a photo still processing, or a file that says nothing). Paged like
/// `/photos`; its cursors are its own.
#[utoipa::path(get, path = "/photos/timeline", tag = "photos", params(ListQuery), security(("bearer" = [])),
    responses((status = 200, body = PhotoPage), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn timeline(
    State(s): State<AppState>,
    Caller(user): Caller,
    Query(q): Query<ListQuery>,
) -> ApiResult<PhotoListing> {
    Ok(s.service
        .timeline(&user, q.cursor.as_deref(), q.limit())
        .await
        .map(PhotoListing)?)
}

/// How many of my photos each month of the timeline holds, newest month first (months without
/// photos are left out): the scrubber's marks, kept as photos come and go.
#[utoipa::path(get, path = "/photos/timeline/months", tag = "photos", security(("bearer" = [])),
    responses((status = 200, body = TimelineMonths), (status = 401, body = ErrorBody)))]
pub async fn timeline_months(
    State(s): State<AppState>,
    Caller(user): Caller,
) -> ApiResult<axum::Json<TimelineMonths>> {
    let months = s.service.timeline_months(&user).await?;
    Ok(axum::Json(TimelineMonths {
        months: months.into_iter().map(Into::into).collect(),
    }))
}

/// One of my photos, with a link to the original.
#[utoipa::path(get, path = "/photos/{id}", tag = "photos", params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = PhotoDto), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_photo(
    State(s): State<AppState>,
    Caller(user): Caller,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<PhotoDto>> {
    Ok(axum::Json(
        s.service.get_photo(&user, &photo_id(&id)?).await?.into(),
    ))
}

/// Change a photo's title or favourite flag.
#[utoipa::path(patch, path = "/photos/{id}", tag = "photos", params(("id" = String, Path)), request_body = PatchPhotoRequest,
    security(("bearer" = [])),
    responses((status = 200, body = PhotoDto), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn patch_photo(
    State(s): State<AppState>,
    Caller(user): Caller,
    Path(id): Path<String>,
    Json(req): Json<PatchPhotoRequest>,
) -> ApiResult<axum::Json<PhotoDto>> {
    let id = photo_id(&id)?;
    let title = match req.title {
        None => None,
        Some(None) => Some(None),
        Some(Some(t)) => Some(Some(Title::parse(&t)?)),
    };
    let patch = PhotoPatch {
        title,
        favourite: req.favourite,
    };
    Ok(axum::Json(
        s.service.update_photo(&user, &id, &patch).await?.into(),
    ))
}

/// Act on up to 100 of my photos at once: each id is checked and answered on its own, and a
/// photo that is not mine is `not_found` while the others are still acted on.
#[utoipa::path(post, path = "/photos/batch", tag = "photos", request_body = BatchRequest,
    security(("bearer" = [])),
    responses(
        (status = 200, body = BatchResponse),
        (status = 400, description = "no ids, more than 100, a malformed id, or `album_id` missing for `add_to_album` (or given for another action)", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 404, description = "`add_to_album`: the album is not mine", body = ErrorBody),
    ))]
pub async fn batch_photos(
    State(s): State<AppState>,
    Caller(user): Caller,
    Json(req): Json<BatchRequest>,
) -> ApiResult<axum::Json<BatchResponse>> {
    let action = match (req.action, &req.album_id) {
        (BatchActionDto::Favourite, None) => BatchAction::Favourite(true),
        (BatchActionDto::Unfavourite, None) => BatchAction::Favourite(false),
        (BatchActionDto::Delete, None) => BatchAction::Delete,
        (BatchActionDto::AddToAlbum, Some(album)) => BatchAction::AddToAlbum(album_id(album)?),
        (BatchActionDto::AddToAlbum, None) => {
            return Err(Error::request(
                ErrorCode::InvalidInput,
                "`add_to_album` needs `album_id`",
            ));
        }
        (_, Some(_)) => {
            return Err(Error::request(
                ErrorCode::InvalidInput,
                "`album_id` goes with `add_to_album` only",
            ));
        }
    };
    let ids = req
        .ids
        .iter()
        .enumerate()
        .map(|(i, id)| {
            PhotoId::parse(id).map_err(|_| {
                Error::request(ErrorCode::InvalidInput, format!("ids[{i}]: not a photo id"))
            })
        })
        .collect::<ApiResult<Vec<_>>>()?;
    let results: Vec<BatchResult> = s
        .service
        .batch(&user, &action, &ids)
        .await?
        .into_iter()
        .map(|(id, outcome)| BatchResult {
            id: id.to_string(),
            ok: outcome.is_ok(),
            error: outcome.err().map(|e| Error::Domain(e).detail()),
        })
        .collect();
    let succeeded = results.iter().filter(|r| r.ok).count();
    Ok(axum::Json(BatchResponse {
        failed: results.len() - succeeded,
        succeeded,
        results,
    }))
}

/// Delete a photo with its files, album memberships and share links.
#[utoipa::path(delete, path = "/photos/{id}", tag = "photos", params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete_photo(
    State(s): State<AppState>,
    Caller(user): Caller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    s.service.delete_photo(&user, &photo_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Create an album.
#[utoipa::path(post, path = "/albums", tag = "albums", request_body = AlbumRequest, security(("bearer" = [])),
    responses((status = 201, body = AlbumDto), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn create_album(
    State(s): State<AppState>,
    Caller(user): Caller,
    Json(req): Json<AlbumRequest>,
) -> ApiResult<impl IntoResponse> {
    let album = s
        .service
        .create_album(&user, AlbumName::parse(&req.name)?)
        .await?;
    Ok((StatusCode::CREATED, axum::Json(AlbumDto::from(album))))
}

/// List my albums, newest first.
#[utoipa::path(get, path = "/albums", tag = "albums", params(ListQuery), security(("bearer" = [])),
    responses((status = 200, body = AlbumPage), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn list_albums(
    State(s): State<AppState>,
    Caller(user): Caller,
    Query(q): Query<ListQuery>,
) -> ApiResult<axum::Json<AlbumPage>> {
    let l = s
        .service
        .list_albums(&user, q.cursor.as_deref(), q.limit())
        .await?;
    let mut items = Vec::with_capacity(l.items.len());
    for album in l.items {
        items.push(album_dto(&s, album).await?);
    }
    Ok(axum::Json(AlbumPage {
        items,
        next_cursor: l.next_cursor,
    }))
}

/// One of my albums.
#[utoipa::path(get, path = "/albums/{id}", tag = "albums", params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = AlbumDto), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_album(
    State(s): State<AppState>,
    Caller(user): Caller,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<AlbumDto>> {
    let album = s.service.get_album(&user, &album_id(&id)?).await?;
    Ok(axum::Json(album_dto(&s, album).await?))
}

/// An album as its owner sees it, with its cover's link.
async fn album_dto(s: &AppState, album: photo_domain::Album) -> ApiResult<AlbumDto> {
    let cover = s.service.album_cover_link(&album).await?;
    Ok(AlbumDto::with_cover(album, cover))
}

/// Rename an album, or pick its cover among its photos (404 for a photo not in it).
#[utoipa::path(patch, path = "/albums/{id}", tag = "albums", params(("id" = String, Path)), request_body = PatchAlbumRequest,
    security(("bearer" = [])),
    responses((status = 200, body = AlbumDto), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn rename_album(
    State(s): State<AppState>,
    Caller(user): Caller,
    Path(id): Path<String>,
    Json(req): Json<PatchAlbumRequest>,
) -> ApiResult<axum::Json<AlbumDto>> {
    let id = album_id(&id)?;
    // Both read before either is written; the cover first, which a photo not in the album
    // refuses before the name changes.
    let name = req.name.as_deref().map(AlbumName::parse).transpose()?;
    let cover = req.cover_photo_id.as_deref().map(photo_id).transpose()?;
    let mut album = None;
    if let Some(cover) = &cover {
        album = Some(s.service.set_album_cover(&user, &id, cover).await?);
    }
    if let Some(name) = &name {
        album = Some(s.service.rename_album(&user, &id, name).await?);
    }
    let album = match album {
        Some(album) => album,
        None => s.service.get_album(&user, &id).await?,
    };
    Ok(axum::Json(album_dto(&s, album).await?))
}

/// Delete an album (not its photos) and its share links.
#[utoipa::path(delete, path = "/albums/{id}", tag = "albums", params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete_album(
    State(s): State<AppState>,
    Caller(user): Caller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    s.service.delete_album(&user, &album_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// An album's photos, newest first.
#[utoipa::path(get, path = "/albums/{id}/photos", tag = "albums", params(("id" = String, Path), ListQuery), security(("bearer" = [])),
    responses((status = 200, body = PhotoPage), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn list_album_photos(
    State(s): State<AppState>,
    Caller(user): Caller,
    Path(id): Path<String>,
    Query(q): Query<ListQuery>,
) -> ApiResult<PhotoListing> {
    let id = album_id(&id)?;
    Ok(s.service
        .list_album_photos(&user, &id, q.cursor.as_deref(), q.limit())
        .await
        .map(PhotoListing)?)
}

/// Put one of my photos in one of my albums.
#[utoipa::path(put, path = "/albums/{id}/photos/{photo_id}", tag = "albums", params(("id" = String, Path), ("photo_id" = String, Path)),
    security(("bearer" = [])),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn add_album_photo(
    State(s): State<AppState>,
    Caller(user): Caller,
    Path((id, photo)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    s.service
        .add_to_album(&user, &album_id(&id)?, &photo_id(&photo)?)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Take a photo out of an album.
#[utoipa::path(delete, path = "/albums/{id}/photos/{photo_id}", tag = "albums", params(("id" = String, Path), ("photo_id" = String, Path)),
    security(("bearer" = [])),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn remove_album_photo(
    State(s): State<AppState>,
    Caller(user): Caller,
    Path((id, photo)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    s.service
        .remove_from_album(&user, &album_id(&id)?, &photo_id(&photo)?)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Create a share link for one of my photos or albums.
#[utoipa::path(post, path = "/shares", tag = "shares", request_body = ShareRequest, security(("bearer" = [])),
    responses((status = 201, body = ShareDto),
        (status = 200, description = "an identical live link without a password, answered instead of a new one", body = ShareDto), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn create_share(
    State(s): State<AppState>,
    Caller(user): Caller,
    Json(req): Json<ShareRequest>,
) -> ApiResult<impl IntoResponse> {
    let target = match (&req.photo_id, &req.album_id) {
        (Some(p), None) => ShareTarget::Photo(photo_id(p)?),
        (None, Some(a)) => ShareTarget::Album(album_id(a)?),
        _ => {
            return Err(Error::request(
                ErrorCode::InvalidInput,
                "give exactly one of `photo_id` and `album_id`",
            ));
        }
    };
    let new = NewShare {
        target,
        expires_in_days: req.expires_in_days,
        password: req.password.as_deref().map(Password::parse).transpose()?,
        allow_download: req.allow_download.unwrap_or(false),
    };
    let (share, created) = s.service.share(&user, new).await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, axum::Json(ShareDto::from(share))))
}

/// List my share links, newest first.
#[utoipa::path(get, path = "/shares", tag = "shares", params(ListQuery), security(("bearer" = [])),
    responses((status = 200, body = SharePage), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn list_shares(
    State(s): State<AppState>,
    Caller(user): Caller,
    Query(q): Query<ListQuery>,
) -> ApiResult<axum::Json<SharePage>> {
    let l = s
        .service
        .list_shares(&user, q.cursor.as_deref(), q.limit())
        .await?;
    Ok(axum::Json(SharePage {
        items: l.items.into_iter().map(Into::into).collect(),
        next_cursor: l.next_cursor,
    }))
}

/// Revoke one of my share links; it stops working at once.
#[utoipa::path(delete, path = "/shares/{token}", tag = "shares", params(("token" = String, Path)), security(("bearer" = [])),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn revoke_share(
    State(s): State<AppState>,
    Caller(user): Caller,
    Path(token): Path<String>,
) -> ApiResult<StatusCode> {
    s.service.revoke_share(&user, &share_token(&token)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Open a share link without a password.
#[utoipa::path(get, path = "/public/shares/{token}", tag = "public", params(("token" = String, Path)),
    responses(
        (status = 200, body = PublicShareDto),
        (status = 401, description = "`password_required`", body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 410, description = "expired or revoked", body = ErrorBody),
    ))]
pub async fn open_share(
    State(s): State<AppState>,
    Path(token): Path<String>,
) -> ApiResult<axum::Json<PublicShareDto>> {
    Ok(axum::Json(
        s.service
            .open_share(&share_token(&token)?, None)
            .await?
            .into(),
    ))
}

/// Open a password-protected share link.
#[utoipa::path(post, path = "/public/shares/{token}", tag = "public", params(("token" = String, Path)), request_body = PublicShareRequest,
    responses(
        (status = 200, body = PublicShareDto),
        (status = 401, description = "`wrong_password`", body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 410, description = "expired or revoked", body = ErrorBody),
        (status = 429, description = "`too_many_attempts`: after 5 wrong passwords in a row the link hears one a minute, after 20 one an hour; wait the seconds in `Retry-After`", body = ErrorBody),
    ))]
pub async fn open_share_with_password(
    State(s): State<AppState>,
    Path(token): Path<String>,
    Json(req): Json<PublicShareRequest>,
) -> ApiResult<axum::Json<PublicShareDto>> {
    let token = share_token(&token)?;
    Ok(axum::Json(
        s.service
            .open_share(&token, Some(&req.password))
            .await?
            .into(),
    ))
}

/// My usage and quota.
#[utoipa::path(get, path = "/me", tag = "me", security(("bearer" = [])),
    responses((status = 200, body = MeDto), (status = 401, body = ErrorBody)))]
pub async fn me(State(s): State<AppState>, Caller(user): Caller) -> ApiResult<axum::Json<MeDto>> {
    let report = s.service.usage(&user).await?;
    let name = s.service.display_name(&user).await?;
    Ok(axum::Json(MeDto::new(&user, report, name)))
}

/// Set my display name (what a guest of my share links sees as "shared by"), or remove it with
/// `null`. No name is shown until one is set: never my e-mail address.
#[utoipa::path(patch, path = "/me", tag = "me", request_body = UpdateMeRequest, security(("bearer" = [])),
    responses((status = 200, body = MeDto), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn update_me(
    State(s): State<AppState>,
    Caller(user): Caller,
    Json(req): Json<UpdateMeRequest>,
) -> ApiResult<axum::Json<MeDto>> {
    let name = match &req.display_name {
        Some(name) => s.service.set_display_name(&user, name.as_deref()).await?,
        None => s.service.display_name(&user).await?,
    };
    let report = s.service.usage(&user).await?;
    Ok(axum::Json(MeDto::new(&user, report, name)))
}

/// This document.
#[utoipa::path(get, path = "/openapi.json", tag = "public", responses((status = 200, description = "the OpenAPI document")))]
pub async fn openapi() -> impl IntoResponse {
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        crate::openapi::document(),
    )
}

/// A link to download one photo's original from a share whose owner allowed it: one signature
/// per download, never one per photo of a listing.
#[utoipa::path(post, path = "/public/shares/{token}/download", tag = "public", params(("token" = String, Path)), request_body = ShareDownloadRequest,
    responses(
        (status = 200, body = ShareDownloadDto),
        (status = 401, description = "`password_required` or `wrong_password`", body = ErrorBody),
        (status = 403, description = "`download_not_allowed`", body = ErrorBody),
        (status = 404, description = "no such link, or the photo is not in it", body = ErrorBody),
        (status = 410, description = "expired or revoked", body = ErrorBody),
        (status = 429, description = "`too_many_attempts`, as opening the link", body = ErrorBody),
    ))]
pub async fn download_shared(
    State(s): State<AppState>,
    Path(token): Path<String>,
    Json(req): Json<ShareDownloadRequest>,
) -> ApiResult<axum::Json<ShareDownloadDto>> {
    let token = share_token(&token)?;
    // An id that cannot be a photo's is not in the share.
    let photo = PhotoId::parse(&req.photo_id).map_err(|_| Error::Domain(DomainError::NotFound))?;
    let url = s
        .service
        .share_download(&token, req.password.as_deref(), &photo)
        .await?;
    Ok(axum::Json(ShareDownloadDto { url }))
}
