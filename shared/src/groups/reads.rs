//! Reading groups: one group, its members (one query plus one batched read of profiles
//! per page), its bulletin, pending notices, the caller's groups and favourites.

use serde::Serialize;
use serde_json::{json, Value};

use super::membership::{all_members, read_group};
use crate::auth::Credential;
use crate::domain::GroupId;
use crate::error::Error;
use crate::ports::{Item, Key, Query};
use crate::privacy::{iso_millis, Viewer};
use crate::state::AppState;
use crate::store::feeds::{self, Counter};
use crate::store::groups::{self, Meta, Notice, NoticeType};
use crate::store::profile::{self, Profile};

fn member_count(head: Option<&Item>) -> i64 {
    feeds::counter(head, Counter::Members)
}

/// A group's metas and member counts, active ones only, in the order given.
async fn summaries(state: &AppState, ids: &[GroupId]) -> Result<Vec<(Meta, i64)>, Error> {
    let mut out = vec![];
    for chunk in ids.chunks(crate::ports::store::MAX_BATCH_KEYS / 2) {
        let keys: Vec<Key> = chunk
            .iter()
            .flat_map(|g| [groups::meta_key(g), groups::head(g)])
            .collect();
        let found = state.store.batch_get(&keys).await?;
        for pair in found.chunks(2) {
            if let Some(meta) = pair[0].as_ref().map(Meta::from_item).transpose()? {
                if meta.active {
                    out.push((meta, member_count(pair[1].as_ref())));
                }
            }
        }
    }
    Ok(out)
}

/// `GET /group/:id`: any signed-in user may read a group's card (to decide to join).
pub async fn info(state: &AppState, cred: &Credential, g: &GroupId) -> Result<Value, Error> {
    let (group, _) = read_group(state, cred, g, &[]).await?;
    let meta = group.active()?;
    Ok(json!({
        "id": meta.id,
        "name": meta.name,
        "portraitUri": meta.portrait_uri,
        "memberCount": group.members(),
        "maxMemberCount": state.config.limits.max_group_members,
        "creatorId": meta.creator,
        "type": 1,
        "bulletin": meta.bulletin,
        "bulletinTime": meta.bulletin_time,
        "deletedAt": Value::Null,
        "isMute": i64::from(meta.is_mute),
        "certiStatus": i64::from(meta.certification),
        "memberProtection": 0,
    }))
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MemberView {
    group_nickname: String,
    role: i64,
    created_at: String,
    created_time: i64,
    updated_at: String,
    updated_time: i64,
    user: Value,
}

/// `GET /group/:id/members`: members only; every member, or one page (`(page, size)`),
/// in the order they joined. The total is the group's member count.
pub async fn members(
    state: &AppState,
    cred: &Credential,
    g: &GroupId,
    page: Option<(usize, usize)>,
) -> Result<(Vec<MemberView>, usize), Error> {
    let (read, all) = tokio::join!(read_group(state, cred, g, &[]), all_members(state, g));
    let (group, _) = read?;
    group.active()?;
    group.my_role()?;
    let mut all = all?;
    all.sort_by_key(|m| m.join_seq);
    let total = all.len();
    let shown: Vec<_> = match page {
        Some((page, size)) => all.into_iter().skip((page - 1) * size).take(size).collect(),
        None => all,
    };
    let viewer = Viewer(&cred.user);
    let mut out = Vec::with_capacity(shown.len());
    for chunk in shown.chunks(crate::ports::store::MAX_BATCH_KEYS) {
        let keys: Vec<Key> = chunk.iter().map(|m| profile::key(&m.user)).collect();
        let found = state.store.batch_get(&keys).await?;
        for (m, item) in chunk.iter().zip(found) {
            // A member whose account is gone (cleanup pending) is not shown.
            let Some(item) = item else { continue };
            let p = Profile::from_item(&item)?;
            let (_, phone) = viewer.phone(&m.user, &p, false);
            out.push(MemberView {
                group_nickname: m.display_name.clone(),
                role: m.role.code(),
                created_at: iso_millis(m.created_at),
                created_time: m.created_at,
                updated_at: iso_millis(m.updated_at),
                updated_time: m.updated_at,
                user: json!({
                    "id": m.user,
                    "nickname": p.nickname,
                    "portraitUri": p.portrait_uri,
                    "gender": p.gender,
                    "stAccount": p.st_account,
                    "phone": phone,
                }),
            });
        }
    }
    Ok((out, total))
}

/// `GET /group/get_bulletin`: members only.
pub async fn bulletin(state: &AppState, cred: &Credential, g: &GroupId) -> Result<Value, Error> {
    let (group, _) = read_group(state, cred, g, &[]).await?;
    let meta = group.active()?;
    group.my_role()?;
    Ok(json!({
        "groupId": meta.id,
        "content": meta.bulletin,
        "timestamp": meta.bulletin_time,
    }))
}

/// The caller's pending notices: invitations to them, and join requests in the groups
/// they create or manage.
pub async fn notice_info(state: &AppState, cred: &Credential) -> Result<Vec<Value>, Error> {
    let me = &cred.user;
    let (checked, invitations, mirrors) = tokio::join!(
        cred.check(state),
        state.store.query(groups::invitations_of(me)),
        state.store.query(groups::mirrors_of(me))
    );
    checked?;
    let mut notices: Vec<Notice> = vec![];
    for item in invitations?.items {
        let n = Notice::from_item(&item)?;
        if n.kind == NoticeType::Invitee {
            notices.push(n);
        }
    }
    for mirror in mirrors?.items {
        if groups::mirror_role(&mirror)?.manages() {
            let g = groups::group_of(&mirror, groups::MIRROR_PREFIX)?;
            for item in state.store.query(groups::notices_of_group(&g)).await?.items {
                let n = Notice::from_item(&item)?;
                if n.kind == NoticeType::Manager {
                    notices.push(n);
                }
            }
        }
    }
    // Names of the users and groups involved, in one batched read per 100 keys.
    let mut keys: Vec<Key> = vec![];
    for n in &notices {
        keys.push(profile::key(&n.requester));
        keys.push(profile::key(&n.receiver));
        keys.push(groups::meta_key(&n.group));
    }
    let mut found = vec![];
    for chunk in keys.chunks(crate::ports::store::MAX_BATCH_KEYS) {
        found.extend(state.store.batch_get(chunk).await?);
    }
    let nickname = |item: &Option<Item>| -> Result<String, Error> {
        Ok(item
            .as_ref()
            .map(Profile::from_item)
            .transpose()?
            .map(|p| p.nickname)
            .unwrap_or_default())
    };
    let mut out = vec![];
    for (n, r) in notices.iter().zip(found.chunks(3)) {
        let Some(meta) = r[2].as_ref().map(Meta::from_item).transpose()?.filter(|m| m.active) else {
            continue;
        };
        out.push(json!({
            "id": format!("{}:{}", n.group, n.receiver),
            "status": 2,
            "type": n.kind as i64,
            "createdAt": iso_millis(n.created_at),
            "createdTime": n.created_at.to_string(),
            "requester": {"id": n.requester, "nickname": nickname(&r[0])?},
            "receiver": {"id": n.receiver, "nickname": nickname(&r[1])?},
            "group": {"id": meta.id, "name": meta.name},
        }));
    }
    Ok(out)
}

/// The groups a list of the caller's (mirrors, favourites) names, read with the session
/// check at the same time.
async fn listed(state: &AppState, cred: &Credential, query: Query, prefix: &str) -> Result<Vec<GroupId>, Error> {
    let (checked, page) = tokio::join!(cred.check(state), state.store.query(query));
    checked?;
    page?.items.iter().map(|m| groups::group_of(m, prefix)).collect()
}

/// `GET /user/groups`: the caller's groups (dismissed ones never).
pub async fn user_groups(state: &AppState, cred: &Credential) -> Result<Vec<Value>, Error> {
    let ids = listed(state, cred, groups::mirrors_of(&cred.user), groups::MIRROR_PREFIX).await?;
    Ok(summaries(state, &ids)
        .await?
        .into_iter()
        .map(|(m, count)| {
            json!({
                "id": m.id,
                "name": m.name,
                "portraitUri": m.portrait_uri,
                "creatorId": m.creator,
                "memberCount": count,
                "isMute": i64::from(m.is_mute),
                "certiStatus": i64::from(m.certification),
            })
        })
        .collect())
}

/// `GET /user/favgroups?offset&limit`: the caller's favourite groups that still exist,
/// all of them when no paging is given.
pub async fn favgroups(state: &AppState, cred: &Credential, paging: Option<(usize, usize)>) -> Result<Value, Error> {
    let ids = listed(state, cred, groups::favourites_of(&cred.user), groups::FAV_PREFIX).await?;
    let all = summaries(state, &ids).await?;
    let total = all.len();
    let (offset, limit) = paging.unwrap_or((0, total));
    let list: Vec<Value> = all
        .into_iter()
        .skip(offset)
        .take(limit)
        .map(|(m, count)| {
            json!({
                "id": m.id,
                "name": m.name,
                "portraitUri": m.portrait_uri,
                "creatorId": m.creator,
                "memberCount": count,
                "maxMemberCount": state.config.limits.max_group_members,
                "memberProtection": 0,
                "createdAt": iso_millis(m.created_at),
                "updatedAt": iso_millis(m.updated_at),
                "createdTime": m.created_at,
                "updatedTime": m.updated_at,
            })
        })
        .collect();
    Ok(json!({ "list": list, "total": total, "limit": limit, "offset": offset }))
}
