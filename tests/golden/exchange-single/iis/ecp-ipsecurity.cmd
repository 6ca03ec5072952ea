@echo off
REM mailwarden: IIS IP restriction of the Exchange admin center (Default Web Site/ecp) on
REM   mail.example.com
REM Generated from examples/exchange-single.toml by mailwarden firewall generate, backend iis.
REM   Do not edit: change the policy and generate again.
REM The appcmd.exe equivalent of ecp-ipsecurity.ps1, for a FIRST application from an elevated
REM   Command Prompt on mail.example.com. It stops at the first error: run again, it stops at
REM   the first entry already present. To re-apply after a policy change, use
REM   ecp-ipsecurity.ps1.
REM Order matters: every allow entry goes in before allowUnlisted becomes false, so that a
REM   failure half-way never locks the administrators out of /ecp. /commit:apphost, because
REM   ipSecurity is locked at server level.
setlocal

echo Installing IP and Domain Restrictions (Web-IP-Security)
powershell.exe -NoProfile -Command "Install-WindowsFeature -Name Web-IP-Security" || exit /b 1

echo Saving applicationHost.config.mailwarden-ecp.bak
if not exist "%windir%\system32\inetsrv\config\applicationHost.config.mailwarden-ecp.bak" copy "%windir%\system32\inetsrv\config\applicationHost.config" "%windir%\system32\inetsrv\config\applicationHost.config.mailwarden-ecp.bak" || exit /b 1

echo Allow entries first
REM loopback
"%windir%\system32\inetsrv\appcmd.exe" set config "Default Web Site/ecp" -section:system.webServer/security/ipSecurity /+"[ipAddress='127.0.0.0',subnetMask='255.0.0.0',allowed='True']" /commit:apphost || exit /b 1
"%windir%\system32\inetsrv\appcmd.exe" set config "Default Web Site/ecp" -section:system.webServer/security/ipSecurity /+"[ipAddress='::1',allowed='True']" /commit:apphost || exit /b 1
REM Exchange servers
"%windir%\system32\inetsrv\appcmd.exe" set config "Default Web Site/ecp" -section:system.webServer/security/ipSecurity /+"[ipAddress='192.0.2.25',subnetMask='255.255.255.255',allowed='True']" /commit:apphost || exit /b 1
"%windir%\system32\inetsrv\appcmd.exe" set config "Default Web Site/ecp" -section:system.webServer/security/ipSecurity /+"[ipAddress='2001:db8:e::25',allowed='True']" /commit:apphost || exit /b 1
REM admin networks
"%windir%\system32\inetsrv\appcmd.exe" set config "Default Web Site/ecp" -section:system.webServer/security/ipSecurity /+"[ipAddress='198.51.100.0',subnetMask='255.255.255.240',allowed='True']" /commit:apphost || exit /b 1
"%windir%\system32\inetsrv\appcmd.exe" set config "Default Web Site/ecp" -section:system.webServer/security/ipSecurity /+"[ipAddress='203.0.113.7',subnetMask='255.255.255.255',allowed='True']" /commit:apphost || exit /b 1
"%windir%\system32\inetsrv\appcmd.exe" set config "Default Web Site/ecp" -section:system.webServer/security/ipSecurity /+"[ipAddress='2001:db8:ad::',subnetMask='120',allowed='True']" /commit:apphost || exit /b 1

echo Settings
"%windir%\system32\inetsrv\appcmd.exe" set config "Default Web Site/ecp" -section:system.webServer/security/ipSecurity /denyAction:AbortRequest /commit:apphost || exit /b 1
"%windir%\system32\inetsrv\appcmd.exe" set config "Default Web Site/ecp" -section:system.webServer/security/ipSecurity /enableProxyMode:false /commit:apphost || exit /b 1

echo Last: refusing every address not listed
"%windir%\system32\inetsrv\appcmd.exe" set config "Default Web Site/ecp" -section:system.webServer/security/ipSecurity /allowUnlisted:false /commit:apphost || exit /b 1

REM IIS applies the change by itself; recycling the admin center's pool makes sure without
REM   interrupting the other protocols.
"%windir%\system32\inetsrv\appcmd.exe" recycle apppool /apppool.name:MSExchangeECPAppPool

echo The section as IIS reads it:
"%windir%\system32\inetsrv\appcmd.exe" list config "Default Web Site/ecp" -section:system.webServer/security/ipSecurity
endlocal
