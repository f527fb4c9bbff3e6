//! The caller's address: API Gateway's `requestContext` source IP on Lambda, the TCP peer
//! locally. Never `X-Forwarded-For`, which any client can write.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use lambda_http::request::RequestContext;

use super::Error;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientIp(pub IpAddr);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        if let Some(RequestContext::ApiGatewayV2(ctx)) = parts.extensions.get::<RequestContext>() {
            if let Some(ip) = ctx.http.source_ip.as_deref().and_then(|s| s.parse().ok()) {
                return Ok(ClientIp(ip));
            }
        }
        if let Some(ConnectInfo(addr)) = parts.extensions.get::<ConnectInfo<SocketAddr>>() {
            return Ok(ClientIp(addr.ip()));
        }
        Err(Error::Internal("the client address is unknown".into()))
    }
}
